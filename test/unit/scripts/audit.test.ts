import { describe, expect, it } from 'vitest'
import { auditVerdict } from '../../../scripts/audit.ts'

const counts = (high: number, critical: number) => ({
  metadata: { vulnerabilities: { info: 0, low: 1, moderate: 2, high, critical, total: 3 + high + critical } },
})

describe('auditVerdict', () => {
  it('passes with only low and moderate advisories', () => {
    const verdict = auditVerdict(
      JSON.stringify({ ...counts(0, 0), vulnerabilities: { 'some-lib': { severity: 'moderate', via: [] } } }),
    )

    expect(verdict).toEqual({
      outcome: 'clean',
      lines: ['no high or critical advisory (0 critical, 0 high, 2 moderate, 1 low)'],
    })
  })

  it('fails on a high or critical advisory, naming the package, the advisory and the fix', () => {
    const verdict = auditVerdict(
      JSON.stringify({
        ...counts(1, 1),
        vulnerabilities: {
          'fast-xml-parser': {
            severity: 'critical',
            via: [{ title: 'Prototype pollution in fast-xml-parser' }],
            fixAvailable: true,
          },
          '@aws-sdk/core': { severity: 'high', via: ['fast-xml-parser'], fixAvailable: false },
          zod: { severity: 'low', via: [] },
        },
      }),
    )

    expect(verdict.outcome).toBe('vulnerable')
    expect(verdict.lines).toEqual([
      '2 production dependencies have high or critical advisories (1 critical, 1 high, 2 moderate, 1 low):',
      '  fast-xml-parser (critical): Prototype pollution in fast-xml-parser; fix available (npm audit fix)',
      '  @aws-sdk/core (high): through fast-xml-parser; no fix yet',
    ])
  })

  it('says it could not check when the advisory service answers with an error', () => {
    const verdict = auditVerdict(
      JSON.stringify({
        message: '405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk',
        statusCode: 405,
      }),
    )

    expect(verdict.outcome).toBe('unverified')
    expect(verdict.lines[0]).toContain('405 Method Not Allowed')
  })

  it('says it could not check when npm printed no JSON', () => {
    expect(auditVerdict('npm error network').outcome).toBe('unverified')
  })
})
