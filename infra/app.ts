/**
 * The repository's CDK app, the seed's deployment: one `KafkaConsumerStack` (the function
 * `kafka-consumer-lambda`, the table `kafka-consumer-offsets`), checked by cdk-nag's AWS Solutions
 * rules (a finding fails the synthesis). The construct bundles the handler and builds the layer.
 *
 * Configured by CDK context (`-c key=value`, or cdk.json) or, for each key, an environment
 * variable: `kafkaBootstrapServers`, `kafkaTopic` and `kafkaGroupId` read the function's own
 * names (KAFKA_BOOTSTRAP_SERVERS, ...); every other key reads `LKC_` + the key in upper snake case
 * (`memorySizeInMb` -> LKC_MEMORY_SIZE_IN_MB). The keys are listed in `CONTEXT_KEYS`.
 *
 *   npx cdk deploy -c kafkaBootstrapServers=b-1.example:9092 -c kafkaTopic=orders
 */
import { resolve } from 'node:path'
import { App, Duration, Validations } from 'aws-cdk-lib'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import { AwsSolutionsChecks } from 'cdk-nag'
import { InvalidConstructPropError } from './errors.ts'
import { type ExistingResources, KafkaConsumerStack } from './kafka-consumer-stack.ts'
import type { ScheduledKafkaConsumerProps } from './scheduled-kafka-consumer.ts'

type Kind = 'string' | 'number' | 'boolean' | 'list' | 'number-or-false' | 'json'

/** Every context key the app reads, with its type. */
export const CONTEXT_KEYS = {
  stackName: 'string',
  account: 'string',
  region: 'string',
  kafkaBootstrapServers: 'string',
  kafkaTopic: 'string',
  kafkaGroupId: 'string',
  functionName: 'string',
  tableName: 'string',
  architecture: 'string',
  memorySizeInMb: 'number',
  timeoutInSeconds: 'number',
  maxMessages: 'number',
  startPosition: 'string',
  startTimestamp: 'string',
  logLevel: 'string',
  environment: 'json',
  scheduleKind: 'string',
  scheduleExpression: 'string',
  reservedConcurrency: 'number-or-false',
  invocationDeadLetterQueue: 'boolean',
  messageDeadLetterQueue: 'boolean',
  vpcId: 'string',
  subnetIds: 'list',
  securityGroupIds: 'list',
  dynamoDbGatewayEndpoint: 'boolean',
  secretsManagerEndpoint: 'boolean',
  sqsEndpoint: 'boolean',
  kafkaSecretArn: 'string',
  kafkaSecretKeyArn: 'string',
  kafkaSecurityProtocol: 'string',
  kafkaSaslMechanism: 'string',
  mskClusterArn: 'string',
  tableEncryptionKey: 'boolean',
  tableKeyArn: 'string',
  shards: 'number',
  monitoring: 'boolean',
  alarmEmail: 'string',
  dashboard: 'boolean',
  detailedMetrics: 'boolean',
  lagRisingMinutes: 'number',
  noSuccessfulRunMinutes: 'number',
  handlerEntry: 'string',
} as const satisfies Record<string, Kind>

type ContextKey = keyof typeof CONTEXT_KEYS
type Raw = (key: ContextKey) => unknown

const OWN_ENV_NAMES: Partial<Record<ContextKey, string>> = {
  kafkaBootstrapServers: 'KAFKA_BOOTSTRAP_SERVERS',
  kafkaTopic: 'KAFKA_TOPIC',
  kafkaGroupId: 'KAFKA_GROUP_ID',
}

/** The environment variable that stands in for a context key. */
export function envNameOf(key: ContextKey): string {
  return OWN_ENV_NAMES[key] ?? `LKC_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`
}

/** The seed's names, which this app deploys under (the construct alone leaves names to CloudFormation). */
export const SEED_NAMES = {
  functionName: 'kafka-consumer-lambda',
  tableName: 'kafka-consumer-offsets',
} as const

export interface AppSettings {
  readonly stackName: string
  readonly account?: string
  readonly region?: string
  readonly consumer: ScheduledKafkaConsumerProps
  readonly existing: ExistingResources
}

/** Reads and types every key; a value of the wrong type fails with the key named. */
export function readAppSettings(
  context: (key: string) => unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AppSettings {
  const raw: Raw = (key) => context(key) ?? env[envNameOf(key)]
  const value = <K extends ContextKey>(key: K) => parse(key, CONTEXT_KEYS[key], raw(key))
  const str = (key: ContextKey) => value(key) as string | undefined
  const num = (key: ContextKey) => value(key) as number | undefined
  const bool = (key: ContextKey) => value(key) as boolean | undefined
  const list = (key: ContextKey) => value(key) as string[] | undefined

  const kafkaBootstrapServers = str('kafkaBootstrapServers')
  const kafkaTopic = str('kafkaTopic')
  if (kafkaBootstrapServers === undefined) {
    throw new InvalidConstructPropError(
      'kafkaBootstrapServers',
      undefined,
      'your brokers: -c kafkaBootstrapServers=host:port,... (or KAFKA_BOOTSTRAP_SERVERS)',
    )
  }
  if (kafkaTopic === undefined) {
    throw new InvalidConstructPropError(
      'kafkaTopic',
      undefined,
      'your topic: -c kafkaTopic=name (or KAFKA_TOPIC)',
    )
  }
  const timeoutInSeconds = num('timeoutInSeconds')
  const scheduleExpression = str('scheduleExpression')
  const handlerEntry = str('handlerEntry')
  const consumer: ScheduledKafkaConsumerProps = definedOnly({
    kafkaBootstrapServers,
    kafkaTopic,
    kafkaGroupId: str('kafkaGroupId'),
    functionName: str('functionName') ?? SEED_NAMES.functionName,
    tableName: str('tableName') ?? SEED_NAMES.tableName,
    entry: handlerEntry === undefined ? undefined : resolve(handlerEntry),
    architecture: architectureOf(str('architecture')),
    memorySize: num('memorySizeInMb'),
    timeout: timeoutInSeconds === undefined ? undefined : Duration.seconds(timeoutInSeconds),
    maxMessages: num('maxMessages'),
    startPosition: str('startPosition') as ScheduledKafkaConsumerProps['startPosition'],
    startTimestamp: str('startTimestamp'),
    logLevel: str('logLevel') as ScheduledKafkaConsumerProps['logLevel'],
    environment: value('environment') as Record<string, string> | undefined,
    scheduleKind: str('scheduleKind') as ScheduledKafkaConsumerProps['scheduleKind'],
    schedule:
      scheduleExpression === undefined
        ? undefined
        : scheduler.ScheduleExpression.expression(scheduleExpression),
    reservedConcurrency: value('reservedConcurrency') as number | false | undefined,
    invocationDeadLetterQueue: bool('invocationDeadLetterQueue'),
    messageDeadLetterQueue: bool('messageDeadLetterQueue'),
    dynamoDbGatewayEndpoint: bool('dynamoDbGatewayEndpoint'),
    secretsManagerEndpoint: bool('secretsManagerEndpoint'),
    sqsEndpoint: bool('sqsEndpoint'),
    kafkaSecretArn: str('kafkaSecretArn'),
    kafkaSecurityProtocol: str(
      'kafkaSecurityProtocol',
    ) as ScheduledKafkaConsumerProps['kafkaSecurityProtocol'],
    kafkaSaslMechanism: str('kafkaSaslMechanism') as ScheduledKafkaConsumerProps['kafkaSaslMechanism'],
    mskClusterArn: str('mskClusterArn'),
    tableEncryptionKey: bool('tableEncryptionKey'),
    shards: num('shards'),
    monitoring:
      bool('monitoring') === false
        ? false
        : definedOnly({
            alarmEmail: str('alarmEmail'),
            dashboard: bool('dashboard'),
            detailedMetrics: bool('detailedMetrics'),
            lagRisingMinutes: num('lagRisingMinutes'),
            noSuccessfulRunMinutes: num('noSuccessfulRunMinutes'),
          }),
  }) as ScheduledKafkaConsumerProps
  const existing: ExistingResources = definedOnly({
    vpcId: str('vpcId'),
    subnetIds: list('subnetIds'),
    securityGroupIds: list('securityGroupIds'),
    tableKeyArn: str('tableKeyArn'),
    kafkaSecretKeyArn: str('kafkaSecretKeyArn'),
  })
  const account = str('account') ?? env.CDK_DEFAULT_ACCOUNT
  const region = str('region') ?? env.CDK_DEFAULT_REGION
  return {
    stackName: str('stackName') ?? 'LambdaKafkaConsumer',
    // A VPC lookup needs both; otherwise the stack stays environment-agnostic (synthesizes offline).
    ...(existing.vpcId !== undefined && account && { account }),
    ...(existing.vpcId !== undefined && region && { region }),
    consumer,
    existing,
  }
}

function architectureOf(name: string | undefined): lambda.Architecture | undefined {
  if (name === undefined) return undefined
  if (name === 'arm64') return lambda.Architecture.ARM_64
  if (name === 'x86_64') return lambda.Architecture.X86_64
  throw new InvalidConstructPropError('architecture', name, "'arm64' or 'x86_64' (context key architecture)")
}

function parse(key: ContextKey, kind: Kind, raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '') return undefined
  const fail = (expected: string): never => {
    throw new InvalidConstructPropError(key, raw, `${expected} (context key ${key} or env ${envNameOf(key)})`)
  }
  switch (kind) {
    case 'string':
      return typeof raw === 'string' ? raw.trim() : fail('a string')
    case 'number': {
      const number = typeof raw === 'number' ? raw : Number(String(raw).trim())
      return Number.isFinite(number) ? number : fail('a number')
    }
    case 'number-or-false':
      if (raw === false || raw === 'false') return false
      return parse(key, 'number', raw)
    case 'boolean':
      if (raw === true || raw === 'true') return true
      if (raw === false || raw === 'false') return false
      return fail('true or false')
    case 'list':
      if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw
      return typeof raw === 'string'
        ? raw
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item.length > 0)
        : fail('a comma-separated list')
    case 'json': {
      const object = typeof raw === 'string' ? safeJson(raw) : raw
      const isStringMap =
        typeof object === 'object' &&
        object !== null &&
        !Array.isArray(object) &&
        Object.values(object).every((item) => typeof item === 'string')
      return isStringMap ? object : fail('a JSON object of strings, e.g. {"FETCH_MAX_BYTES":"4194304"}')
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function definedOnly<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, item]) => item !== undefined)) as T
}

/** Builds the stack into `app`, with cdk-nag's checks. */
export function defineApp(app: App, settings: AppSettings): KafkaConsumerStack {
  const stack = new KafkaConsumerStack(app, settings.stackName, {
    description: 'Lambda Kafka Consumer: a scheduled, group-free Kafka consumer with offsets in DynamoDB',
    ...(settings.account &&
      settings.region && { env: { account: settings.account, region: settings.region } }),
    consumer: settings.consumer,
    existing: settings.existing,
  })
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }))
  return stack
}

async function main(): Promise<void> {
  const app = new App()
  const settings = readAppSettings((key) => app.node.tryGetContext(key))
  defineApp(app, settings)
  app.synth()
}

if (import.meta.main) {
  try {
    await main()
  } catch (error) {
    if (!(error instanceof InvalidConstructPropError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exitCode = 1
  }
}
