/**
 * Helpers for the infrastructure tests: stacks synthesized offline from stand-in assets (a bundle
 * and a layer folder of the right shape, so no npm install or esbuild run is needed), the stack's
 * IAM statements, and the external checkers (cdk-nag, cfn-lint, checkov).
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { App, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import { AwsSolutionsChecks } from 'cdk-nag'
import { type ExistingResources, KafkaConsumerStack } from '../../infra/kafka-consumer-stack.ts'
import {
  ScheduledKafkaConsumer,
  type ScheduledKafkaConsumerProps,
} from '../../infra/scheduled-kafka-consumer.ts'

const run = promisify(execFile)
const venvBin = resolve(import.meta.dirname, '../../.cache/venv/bin')

let assets: { bundlePath: string; layerPath: string } | undefined

/** A bundle folder with an index.mjs and a layer folder with nodejs/node_modules, made once per run. */
export function standInAssets(): { bundlePath: string; layerPath: string } {
  if (assets) return assets
  const root = mkdtempSync(join(tmpdir(), 'lkc-infra-'))
  const bundlePath = join(root, 'bundle')
  const layerPath = join(root, 'layer')
  mkdirSync(bundlePath, { recursive: true })
  writeFileSync(join(bundlePath, 'index.mjs'), 'export const handler = async () => ({})\n')
  mkdirSync(join(layerPath, 'nodejs/node_modules/@platformatic/kafka'), { recursive: true })
  writeFileSync(join(layerPath, 'nodejs/node_modules/@platformatic/kafka/package.json'), '{}\n')
  assets = { bundlePath, layerPath }
  return assets
}

/** A Secrets Manager secret, its customer-managed key and an MSK cluster, as ARNs the checks accept. */
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-credentials-AbCdEf'
export const SECRET_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
export const MSK_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/orders-cluster/5a6b7c8d-1234-5678-9abc-def012345678-2'

export const REQUIRED = {
  kafkaBootstrapServers: 'b-1.example.com:9092,b-2.example.com:9092',
  kafkaTopic: 'orders',
}

export interface Synthesized {
  readonly app: App
  readonly stack: KafkaConsumerStack
  readonly template: Template
}

/** The app's stack with the given props, synthesized offline. */
export function synthesize(
  props: Partial<ScheduledKafkaConsumerProps> = {},
  options: { existing?: ExistingResources; outdir?: string; stackName?: string } = {},
): Synthesized {
  const app = new App(options.outdir ? { outdir: options.outdir } : {})
  const stack = new KafkaConsumerStack(app, options.stackName ?? 'Test', {
    consumer: { ...REQUIRED, ...standInAssets(), ...props },
    ...(options.existing && { existing: options.existing }),
  })
  return { app, stack, template: Template.fromStack(stack) }
}

/** The construct alone in a plain stack, for props that need the stack as their scope (an imported VPC). */
export function synthesizeInStack(
  propsOf: (stack: Stack) => Partial<ScheduledKafkaConsumerProps>,
  outdir?: string,
): { app: App; consumer: ScheduledKafkaConsumer; template: Template } {
  const app = new App(outdir ? { outdir } : {})
  const stack = new Stack(app, 'TestInVpc')
  const consumer = new ScheduledKafkaConsumer(stack, 'Consumer', {
    ...REQUIRED,
    ...standInAssets(),
    ...propsOf(stack),
  })
  return { app, consumer, template: Template.fromStack(stack) }
}

/** A VPC as `Vpc.fromLookup` would return it: private subnets with their route tables, no resources of its own. */
export function importedVpc(stack: Stack): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaaa', 'rtb-0bbbbbbbbbbbbbbbb'],
  })
}

export interface Statement {
  Effect: string
  Action: string | string[]
  Resource: unknown
  Condition?: unknown
  Sid?: string
}

/** Every statement of every IAM policy in the template attached to a role whose logical id starts with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy')
  return Object.values(policies).flatMap((policy) => {
    const properties = policy.Properties as {
      Roles: Array<{ Ref: string }>
      PolicyDocument: { Statement: Statement[] }
    }
    const attached = properties.Roles.some((role) => role.Ref.startsWith(rolePrefix))
    return attached ? properties.PolicyDocument.Statement : []
  })
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action]
}

/** cdk-nag's AWS Solutions findings that nobody acknowledged, as `rule at path` lines. */
export function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app)
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
  )
}

export async function cfnLint(templates: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(join(venvBin, 'cfn-lint'), ['--', ...templates], {
      maxBuffer: 1 << 24,
    })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    }
  }
}

export interface CheckovResult {
  readonly failed: Array<{ id: string; resource: string }>
  readonly skipped: Array<{ id: string; resource: string; comment: string }>
  readonly passed: number
}

export async function checkov(directory: string): Promise<CheckovResult> {
  let stdout: string
  try {
    // --skip-download: no call to the vendor's API (no network in tests; it only adds doc links).
    ;({ stdout } = await run(
      join(venvBin, 'checkov'),
      ['-d', directory, '--framework', 'cloudformation', '--skip-download', '-o', 'json'],
      { maxBuffer: 1 << 26 },
    ))
  } catch (error) {
    // checkov exits 1 when a check failed; its report is still on stdout.
    stdout = (error as { stdout?: string }).stdout ?? ''
  }
  const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[]
  const reports = Array.isArray(parsed) ? parsed : [parsed]
  const checks = (kind: 'failed_checks' | 'skipped_checks') =>
    reports.flatMap((report) => report.results?.[kind] ?? [])
  return {
    failed: checks('failed_checks').map((check) => ({ id: check.check_id, resource: check.resource })),
    skipped: checks('skipped_checks').map((check) => ({
      id: check.check_id,
      resource: check.resource,
      comment: check.check_result?.suppress_comment ?? '',
    })),
    passed: reports.reduce((sum, report) => sum + (report.summary?.passed ?? 0), 0),
  }
}

interface CheckovReport {
  results?: Partial<Record<'failed_checks' | 'skipped_checks', CheckovCheck[]>>
  summary?: { passed?: number }
}

interface CheckovCheck {
  check_id: string
  resource: string
  check_result?: { suppress_comment?: string }
}
