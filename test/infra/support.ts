/**
 * Helpers for the infrastructure tests: stacks synthesized offline, the function's code a stand-in
 * bundle unless a test bundles an `entry` (the layer is built for real: once per architecture,
 * then cached), the stack's IAM statements, and the external checkers (cdk-nag, cfn-lint, checkov).
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { App, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { AwsSolutionsChecks } from 'cdk-nag'
import { SEED_NAMES } from '../../infra/app.ts'
import { type ExistingResources, KafkaConsumerStack } from '../../infra/kafka-consumer-stack.ts'
import {
  ScheduledKafkaConsumer,
  type ScheduledKafkaConsumerProps,
} from '../../infra/scheduled-kafka-consumer.ts'

const run = promisify(execFile)
const venvBin = resolve(import.meta.dirname, '../../.cache/venv/bin')

let bundleDir: string | undefined

/** A prebuilt bundle of the right shape (`code`), so that a test needs no esbuild run. */
export function standInCode(): { code: lambda.Code } {
  if (bundleDir === undefined) {
    bundleDir = join(mkdtempSync(join(tmpdir(), 'lkc-infra-')), 'bundle')
    mkdirSync(bundleDir, { recursive: true })
    writeFileSync(join(bundleDir, 'index.mjs'), 'export const handler = async () => ({})\n')
  }
  return { code: lambda.Code.fromAsset(bundleDir) }
}

/** The code unless the props bundle an entry of their own. */
function codeUnlessEntry(props: Partial<ScheduledKafkaConsumerProps>): { code?: lambda.Code } {
  return props.entry === undefined && props.code === undefined ? standInCode() : {}
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

/** The app's stack (the seed's names) with the given props, synthesized offline. */
export function synthesize(
  props: Partial<ScheduledKafkaConsumerProps> = {},
  options: { existing?: ExistingResources; outdir?: string; stackName?: string } = {},
): Synthesized {
  const app = new App(options.outdir ? { outdir: options.outdir } : {})
  const stack = new KafkaConsumerStack(app, options.stackName ?? 'Test', {
    consumer: { ...REQUIRED, ...SEED_NAMES, ...codeUnlessEntry(props), ...props },
    ...(options.existing && { existing: options.existing }),
  })
  return { app, stack, template: Template.fromStack(stack) }
}

/** The construct alone in a plain stack (its own default names), for props that need the stack as their scope. */
export function synthesizeInStack(
  propsOf: (stack: Stack) => Partial<ScheduledKafkaConsumerProps>,
  outdir?: string,
): { app: App; consumer: ScheduledKafkaConsumer; template: Template } {
  const app = new App(outdir ? { outdir } : {})
  const stack = new Stack(app, 'TestInVpc')
  const props = propsOf(stack)
  const consumer = new ScheduledKafkaConsumer(stack, 'Consumer', {
    ...REQUIRED,
    ...codeUnlessEntry(props),
    ...props,
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

/** A fixture handler file as a team writes it (TypeScript, importing the package's source entry). */
export const ORDERS_HANDLER_ENTRY = resolve(import.meta.dirname, 'fixtures/orders-handler.ts')

/**
 * Two consumers of two topics in one stack, with the construct's own defaults (names left to
 * CloudFormation): one bundles a handler file, the other the package's logging handler.
 */
export function twoConsumersInOneStack(outdir?: string): {
  app: App
  stack: Stack
  orders: ScheduledKafkaConsumer
  payments: ScheduledKafkaConsumer
  template: Template
} {
  const app = new App(outdir ? { outdir } : {})
  const stack = new Stack(app, 'TwoConsumers')
  const orders = new ScheduledKafkaConsumer(stack, 'Orders', {
    ...REQUIRED,
    kafkaTopic: 'orders',
    entry: ORDERS_HANDLER_ENTRY,
  })
  const payments = new ScheduledKafkaConsumer(stack, 'Payments', { ...REQUIRED, kafkaTopic: 'payments' })
  return { app, stack, orders, payments, template: Template.fromStack(stack) }
}
