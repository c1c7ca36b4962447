/**
 * The function's environment: ONE table of prop -> environment variable -> value. The keys come
 * from the config schema (src/config/schema.ts); the construct sets a variable only when its prop
 * is given (or derived), so the schema's default applies otherwise. The `environment` prop may add
 * variables but not redefine one of these, and the whole environment is loaded with the function's
 * own schema at synthesis, so a combination it would refuse at its first invocation fails there.
 */
import { Token } from 'aws-cdk-lib'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import { ConfigError } from '../src/config/errors.ts'
import { loadConfig, settings } from '../src/config/schema.ts'
import type { ResolvedProps } from './consumer-props.ts'
import { InvalidConstructPropError } from './errors.ts'

/** What a value is computed from: the props, what the construct built, and which shard. */
export interface EnvironmentContext {
  readonly props: ResolvedProps
  readonly table: dynamodb.ITable
  readonly messageDeadLetterQueue?: sqs.IQueue
  readonly shardIndex: number
  /** Names this consumer in its logs and metrics (Powertools' `service`), unique in the stack. */
  readonly serviceName: string
}

interface EnvironmentEntry {
  /** The prop an error names when the value is refused. */
  readonly prop: string
  readonly key: string
  /** `undefined`: not set, the function's default applies. */
  readonly value: (context: EnvironmentContext) => string | undefined
}

const text = (value: number | undefined) => (value === undefined ? undefined : String(value))

/** Powertools reads it for the `service` of every log line and metric (the alarms select on it). */
export const SERVICE_NAME_KEY = 'POWERTOOLS_SERVICE_NAME'

export const FUNCTION_ENVIRONMENT: readonly EnvironmentEntry[] = [
  {
    prop: 'kafkaBootstrapServers',
    key: settings.kafkaBootstrapServers.key,
    value: (c) => c.props.kafkaBootstrapServers,
  },
  { prop: 'kafkaTopic', key: settings.kafkaTopic.key, value: (c) => c.props.kafkaTopic },
  { prop: 'kafkaGroupId', key: settings.kafkaGroupId.key, value: (c) => c.props.kafkaGroupId },
  { prop: 'table', key: settings.dynamodbTable.key, value: (c) => c.table.tableName },
  { prop: 'maxMessages', key: settings.maxMessages.key, value: (c) => text(c.props.maxMessages) },
  { prop: 'startPosition', key: settings.startPosition.key, value: (c) => c.props.startPosition },
  { prop: 'startTimestamp', key: settings.startTimestamp.key, value: (c) => c.props.startTimestamp },
  { prop: 'logLevel', key: settings.logLevel.key, value: (c) => c.props.logLevel },
  {
    prop: 'messageDeadLetterQueue',
    key: settings.deadLetterQueueUrl.key,
    value: (c) => c.messageDeadLetterQueue?.queueUrl,
  },
  { prop: 'kafkaSecret', key: settings.kafkaSecretArn.key, value: (c) => c.props.secretArn },
  {
    prop: 'kafkaSecurityProtocol',
    key: settings.kafkaSecurityProtocol.key,
    value: (c) => c.props.securityProtocol,
  },
  { prop: 'kafkaSaslMechanism', key: settings.kafkaSaslMechanism.key, value: (c) => c.props.saslMechanism },
  {
    prop: 'shards',
    key: settings.shardCount.key,
    value: (c) => (c.props.shards > 1 ? text(c.props.shards) : undefined),
  },
  {
    prop: 'shards',
    key: settings.shardIndex.key,
    value: (c) => (c.props.shards > 1 ? text(c.shardIndex) : undefined),
  },
  // No alarm reads them: the metrics would only be billed.
  {
    prop: 'monitoring',
    key: settings.publishMetrics.key,
    value: (c) => (c.props.monitoring === false ? 'false' : undefined),
  },
  {
    prop: 'monitoring',
    key: settings.detailedMetrics.key,
    value: (c) => (c.props.monitoring && c.props.monitoring?.detailedMetrics === true ? 'true' : undefined),
  },
  {
    prop: 'monitoring',
    key: settings.partitionLagMetrics.key,
    value: (c) =>
      c.props.monitoring && c.props.monitoring?.partitionLagMetrics === true ? 'true' : undefined,
  },
  { prop: 'functionName', key: SERVICE_NAME_KEY, value: (c) => c.serviceName },
]

/** The variables the construct sets itself; `environment` may not redefine them. */
export const MANAGED_KEYS: ReadonlySet<string> = new Set(FUNCTION_ENVIRONMENT.map((entry) => entry.key))

/** The environment of one shard's function: the table's values, then the `environment` prop's. */
export function functionEnvironment(context: EnvironmentContext): Record<string, string> {
  for (const key of Object.keys(context.props.environment ?? {})) {
    if (MANAGED_KEYS.has(key)) {
      const entry = FUNCTION_ENVIRONMENT.find((candidate) => candidate.key === key)
      throw new InvalidConstructPropError(
        'environment',
        key,
        `variables the construct does not set itself; use the ${entry?.prop ?? 'matching'} prop instead`,
      )
    }
  }
  const managed: Record<string, string> = {}
  for (const entry of FUNCTION_ENVIRONMENT) {
    const value = entry.value(context)
    if (value !== undefined) managed[entry.key] = value
  }
  const environment = { ...context.props.environment, ...managed }
  checkAsTheFunctionWould(environment)
  return environment
}

/**
 * Loads the function's environment with the function's own config schema, so a combination it
 * would refuse at its first invocation (SASL without a mechanism, MSK IAM without TLS, ...) fails
 * the synthesis instead. Values only known at deploy time stand in as placeholders.
 */
function checkAsTheFunctionWould(environment: Record<string, string>): void {
  const resolved: Record<string, string> = { AWS_REGION: 'us-east-1' }
  for (const [key, value] of Object.entries(environment)) {
    if (!Token.isUnresolved(value)) resolved[key] = value
    else if (key === settings.dynamodbTable.key) resolved[key] = 'table-known-at-deploy-time'
    else if (key === settings.kafkaSecretArn.key)
      resolved[key] = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:known-at-deploy-time-AbCdEf'
  }
  try {
    loadConfig(resolved)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const [first] = error.problems
    const prop = FUNCTION_ENVIRONMENT.find((entry) => entry.key === first?.key)?.prop ?? 'environment'
    throw new InvalidConstructPropError(
      prop,
      first?.value,
      `a configuration the function accepts; at its first invocation it would refuse it with:\n${error.message}`,
    )
  }
}
