/**
 * The checkers on what the app synthesizes, in three shapes that together use every option:
 * cdk-nag's AWS Solutions rules (zero unacknowledged findings), cfn-lint (0 errors, 0 warnings)
 * and checkov (0 failed checks; each skip written in the template with its reason).
 */
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type App, Validations } from 'aws-cdk-lib'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import type { IConstruct } from 'constructs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type CheckovResult,
  cfnLint,
  checkov,
  importedVpc,
  MSK_ARN,
  nagFindings,
  SECRET_ARN,
  SECRET_KEY_ARN,
  synthesize,
  synthesizeInStack,
  twoConsumersInOneStack,
} from './support.ts'

interface Variant {
  readonly name: string
  readonly app: App
  readonly outdir: string
}

function variants(): Variant[] {
  const root = mkdtempSync(join(tmpdir(), 'lkc-checks-'))
  const defaults = join(root, 'defaults')
  const everything = join(root, 'everything')
  const inVpc = join(root, 'in-vpc')
  const twoConsumers = join(root, 'two-consumers')
  return [
    {
      name: 'the defaults (Scheduler, arm64)',
      app: synthesize({}, { outdir: defaults }).app,
      outdir: defaults,
    },
    {
      name: 'rule, x86_64, secret with its key, MSK IAM, customer-managed table key, 2 shards, alarm e-mails',
      app: synthesize(
        {
          monitoring: { alarmEmail: 'oncall@example.com' },
          scheduleKind: 'rule',
          architecture: lambda.Architecture.X86_64,
          kafkaSecretArn: SECRET_ARN,
          mskClusterArn: MSK_ARN,
          tableEncryptionKey: true,
          shards: 2,
        },
        { outdir: everything, existing: { kafkaSecretKeyArn: SECRET_KEY_ARN } },
      ).app,
      outdir: everything,
    },
    {
      name: 'in a VPC with the DynamoDB, Secrets Manager and SQS endpoints',
      app: synthesizeInStack(
        (stack) => ({
          vpc: importedVpc(stack),
          secretsManagerEndpoint: true,
          sqsEndpoint: true,
          kafkaSecretArn: SECRET_ARN,
          kafkaSecurityProtocol: 'SASL_SSL',
          kafkaSaslMechanism: 'SCRAM-SHA-512',
        }),
        inVpc,
      ).app,
      outdir: inVpc,
    },
    {
      name: 'two consumers of two topics in one stack, names left to CloudFormation, each handler bundled from its entry',
      app: twoConsumersInOneStack(twoConsumers).app,
      outdir: twoConsumers,
    },
  ]
}

/** Every acknowledgement recorded in the tree: `rule: reason`. */
function acknowledgements(app: App): string[] {
  const found = new Set<string>()
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.add(`${id.replace(/^annotation::/i, '')}: ${reason}`)
      }
    }
    for (const child of construct.node.children) visit(child)
  }
  visit(app)
  return [...found].sort()
}

describe.each(variants())('the synthesized app: $name', ({ app, outdir }) => {
  let templates: string[] = []

  beforeAll(() => {
    app.synth()
    templates = readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => join(outdir, file))
  })

  it('has no cdk-nag AWS Solutions finding left unacknowledged, and every acknowledgement says why', () => {
    expect(nagFindings(app)).toEqual([])
    for (const acknowledgement of acknowledgements(app)) {
      const reason = acknowledgement.slice(acknowledgement.indexOf(': ') + 2)
      expect(reason.length, acknowledgement).toBeGreaterThan(60)
    }
  })

  it('passes cfn-lint with no error and no warning', async () => {
    expect(templates.length).toBeGreaterThan(0)
    const result = await cfnLint(templates)
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })

  it('passes checkov: no failed check; every skip is in the template with its reason', async () => {
    const result: CheckovResult = await checkov(outdir)
    expect(result.failed).toEqual([])
    expect(result.passed).toBeGreaterThan(20)
    for (const skip of result.skipped)
      expect(skip.comment.length, `${skip.id} on ${skip.resource}`).toBeGreaterThan(60)
    const skippedIds = new Set(result.skipped.map((skip) => skip.id))
    // Only the checks that the design answers on purpose (see the README).
    expect(
      [...skippedIds].every((id) =>
        [
          'CKV_AWS_26',
          'CKV_AWS_27',
          'CKV_AWS_116',
          'CKV_AWS_117',
          'CKV_AWS_119',
          'CKV_AWS_158',
          'CKV_AWS_173',
        ].includes(id),
      ),
    ).toBe(true)
  })
})
