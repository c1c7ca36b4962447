/**
 * The supply-chain gate CI runs (`npm run audit:prod`): `npm audit --omit=dev` on the
 * production dependencies, failing on any high or critical advisory, each listed with its
 * package, severity, title and whether a fix exists.
 *
 * When the advisory service cannot be reached (an offline mirror answers the audit request
 * with an error), nothing can be concluded: the run says so loudly and passes, unless
 * AUDIT_REQUIRED=1, where it fails. A found advisory always fails.
 */
import { execFile } from 'node:child_process'

export interface AuditVerdict {
  readonly outcome: 'clean' | 'vulnerable' | 'unverified'
  readonly lines: readonly string[]
}

const BLOCKING = new Set(['high', 'critical'])

/** Reads `npm audit --json` output (npm 7+ format). */
export function auditVerdict(output: string): AuditVerdict {
  let report: unknown
  try {
    report = JSON.parse(output)
  } catch {
    return { outcome: 'unverified', lines: ['npm audit printed no JSON report'] }
  }
  const record = (value: unknown): Record<string, unknown> =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  const top = record(report)
  const counts = record(record(top.metadata).vulnerabilities)
  if (Object.keys(counts).length === 0) {
    const reason = typeof top.message === 'string' ? top.message : record(top.error).summary
    return {
      outcome: 'unverified',
      lines: [`the advisory service gave no report: ${String(reason || 'no metadata in the answer')}`],
    }
  }
  const blocking = Object.entries(record(top.vulnerabilities))
    .map(([name, entry]): Record<string, unknown> & { name: string } => ({ ...record(entry), name }))
    .filter((entry) => typeof entry.severity === 'string' && BLOCKING.has(entry.severity))
  const summary = ['critical', 'high', 'moderate', 'low']
    .map((severity) => `${Number(counts[severity] ?? 0)} ${severity}`)
    .join(', ')
  if (blocking.length === 0) return { outcome: 'clean', lines: [`no high or critical advisory (${summary})`] }
  return {
    outcome: 'vulnerable',
    lines: [
      `${blocking.length} production dependenc${blocking.length === 1 ? 'y has' : 'ies have'} high or critical advisories (${summary}):`,
      ...blocking.map((entry) => {
        const titles = (Array.isArray(entry.via) ? entry.via : [])
          .map((via: unknown) =>
            typeof via === 'string' ? `through ${via}` : String(record(via).title ?? ''),
          )
          .filter((title: string) => title.length > 0)
        const fix = entry.fixAvailable === false ? 'no fix yet' : 'fix available (npm audit fix)'
        return `  ${entry.name} (${String(entry.severity)}): ${titles.join('; ')}; ${fix}`
      }),
    ],
  }
}

function npmAudit(): Promise<string> {
  return new Promise((resolve) => {
    // npm exits 1 both for findings and for a failed request: the JSON tells them apart.
    execFile('npm', ['audit', '--omit=dev', '--json'], { maxBuffer: 64 * 1024 * 1024 }, (_error, stdout) =>
      resolve(stdout),
    )
  })
}

if (import.meta.main) {
  const verdict = auditVerdict(await npmAudit())
  const required = process.env.AUDIT_REQUIRED === '1'
  for (const line of verdict.lines) process.stdout.write(`[audit] ${line}\n`)
  if (verdict.outcome === 'unverified') {
    process.stdout.write(
      `[audit] WARNING: the production dependencies were NOT checked for advisories${required ? '' : ' (AUDIT_REQUIRED=1 makes this fail)'}\n`,
    )
  }
  process.exitCode =
    verdict.outcome === 'vulnerable' || (verdict.outcome === 'unverified' && required) ? 1 : 0
}
