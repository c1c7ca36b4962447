/**
 * Builds the outside-world adapters from the configuration: the Kafka source, the offset
 * store and the run lease on a DynamoDB client, and the dead-letter destination (an SQS queue,
 * a Kafka topic, or both). Shared by the Lambda handler and `lkc`, so both run the same code;
 * created once per process and kept across warm invocations.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs'
import { glueRegionOf } from '../config/format-rules.ts'
import type { Config, Environment } from '../config/schema.ts'
import type { DeadLetterSink } from '../dead-letters/dead-letter.ts'
import { KafkaDeadLetterSink } from '../dead-letters/kafka-dead-letter-sink.ts'
import { RoutedDeadLetterSink } from '../dead-letters/routed-dead-letter-sink.ts'
import { SQS_ATTEMPT_TIMEOUT_MS, SqsDeadLetterSink } from '../dead-letters/sqs-dead-letter-sink.ts'
import {
  createKafkaSecurity,
  type KafkaSecurity,
  type KafkaSecurityDependencies,
} from '../kafka/connection-options.ts'
import { PlatformaticKafkaSource } from '../kafka/platformatic-kafka-source.ts'
import { DYNAMODB_ATTEMPT_TIMEOUT_MS } from '../offsets/dynamodb-call.ts'
import { DynamoDbOffsetStore } from '../offsets/dynamodb-offset-store.ts'
import { DynamoDbRunLease } from '../offsets/dynamodb-run-lease.ts'
import { createDecoders, type FormatDecoders } from '../processing/create-decoders.ts'

export interface Runtime {
  readonly config: Config
  readonly source: PlatformaticKafkaSource
  readonly offsets: DynamoDbOffsetStore
  readonly lease: DynamoDbRunLease
  /** Undefined when neither DEAD_LETTER_QUEUE_URL nor DEAD_LETTER_TOPIC is set. */
  readonly deadLetters: DeadLetterSink | undefined
  /** VALUE_FORMAT and KEY_FORMAT; with a registry, its schemas cached for the life of the process. */
  readonly decoders: FormatDecoders
  readonly dynamodb: DynamoDBClient
  close(): Promise<void>
}

/**
 * Async on purpose: credentials may have to be fetched (Secrets Manager) or signed (MSK IAM)
 * before the Kafka client can be built. Called once per cold start; a credential that cannot
 * be read fails here, before anything is consumed or written.
 */
export async function createRuntime(
  config: Config,
  env: Environment,
  dependencies: KafkaSecurityDependencies = {},
): Promise<Runtime> {
  const security = await createKafkaSecurity(config, env, dependencies)
  const source = new PlatformaticKafkaSource({
    security,
    bootstrapServers: config.kafkaBootstrapServers,
    clientId: config.kafkaClientId,
    requestTimeoutMs: config.kafkaRequestTimeoutMs,
    fetchMaxBytes: config.fetchMaxBytes,
    fetchPartitionMaxBytes: config.fetchPartitionMaxBytes,
    fetchMaxWaitMs: config.fetchMaxWaitMs,
  })
  const dynamodb = new DynamoDBClient(dynamoDbClientConfig(config, env))
  const tableKey = { table: config.dynamodbTable, topic: config.kafkaTopic, groupId: config.kafkaGroupId }
  const offsets = new DynamoDbOffsetStore(dynamodb, tableKey)
  // One lease per shard: shards consume disjoint partitions and must not wait on each other.
  const lease = new DynamoDbRunLease(dynamodb, tableKey, config.shardIndex)
  const { sink: deadLetters, sqs } = createDeadLetterSink(config, env, security)
  const glueEndpoint = env.AWS_ENDPOINT_URL_GLUE
  const decoders = await createDecoders(config, env, {
    // The SDK reads AWS_ENDPOINT_URL_GLUE from process.env itself; `env` may be another object (lkc, tests).
    glue: {
      region: glueRegionOf(env),
      ...(glueEndpoint !== undefined && { endpoint: glueEndpoint, ...localCredentials(glueEndpoint, env) }),
    },
  })
  return {
    config,
    source,
    offsets,
    lease,
    deadLetters,
    decoders,
    dynamodb,
    async close() {
      decoders.close()
      dynamodb.destroy()
      sqs?.destroy()
      await Promise.all([source.close(), deadLetters?.close()])
    },
  }
}

/** SQS first when both are set: the topic then takes only the letters too large for SQS. */
function createDeadLetterSink(
  config: Config,
  env: Environment,
  security: KafkaSecurity,
): { sink: DeadLetterSink | undefined; sqs: SQSClient | undefined } {
  const sinks: DeadLetterSink[] = []
  let sqs: SQSClient | undefined
  if (config.deadLetterQueueUrl !== undefined) {
    sqs = new SQSClient(sqsClientConfig(config.deadLetterQueueUrl, env))
    sinks.push(new SqsDeadLetterSink(sqs, config.deadLetterQueueUrl))
  }
  if (config.deadLetterTopic !== undefined) {
    sinks.push(
      new KafkaDeadLetterSink({
        bootstrapServers: config.kafkaBootstrapServers,
        clientId: config.kafkaClientId,
        topic: config.deadLetterTopic,
        requestTimeoutMs: config.kafkaRequestTimeoutMs,
        security,
      }),
    )
  }
  const sink =
    sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : new RoutedDeadLetterSink(sinks)
  return { sink, sqs }
}

const LOOPBACK = /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/

/** Placeholder credentials for a loopback endpoint when none are set: local servers do not check them. */
function localCredentials(endpoint: string, env: Environment) {
  return LOOPBACK.test(endpoint) && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined
    ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {}
}

/**
 * AWS DynamoDB through the default credential chain, or the endpoint in DYNAMODB_ENDPOINT.
 * A loopback endpoint (the local stack) needs no real credentials: placeholders are used
 * when none are set, so `lkc` works on a machine that has never seen AWS.
 *
 * Bounds: a DynamoDB that is unreachable, or accepts connections and never answers, must fail
 * a call in seconds rather than hang the run past the Lambda timeout. One attempt per call:
 * the offsets table's adapters retry (src/offsets/dynamodb-call.ts), within the invocation's
 * time, and the SDK's own retries would multiply theirs. Each call also carries an abort signal
 * that ends its attempt after DYNAMODB_ATTEMPT_TIMEOUT_MS; the handler's own limits below bound
 * calls made without one (`lkc doctor`'s DescribeTable). `requestTimeout` only warns unless
 * `throwOnRequestTimeout` is set, and there is no socket timeout unless `socketTimeout` is.
 */
export function dynamoDbClientConfig(
  config: Pick<Config, 'dynamodbEndpoint'>,
  env: Environment,
): DynamoDBClientConfig {
  const timeouts = {
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: DYNAMODB_ATTEMPT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      socketTimeout: DYNAMODB_ATTEMPT_TIMEOUT_MS,
    },
  }
  const endpoint = config.dynamodbEndpoint
  if (endpoint === undefined) return timeouts
  return {
    ...timeouts,
    endpoint,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...localCredentials(endpoint, env),
  }
}

/**
 * An AWS queue URL names its region; any other URL (a local SQS-API server such as moto) is
 * used as the endpoint itself.
 *
 * Bounds: the SDK's retries are the only ones for a dead letter (3 attempts; the cycle does not
 * retry a failed dead letter, its partition stops), each attempt limited below, and the whole
 * call limited to SQS_SEND_TIMEOUT_MS by the sink's abort signal.
 */
export function sqsClientConfig(queueUrl: string, env: Environment): SQSClientConfig {
  const timeouts = {
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: SQS_ATTEMPT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      socketTimeout: SQS_ATTEMPT_TIMEOUT_MS,
    },
  }
  const url = new URL(queueUrl)
  const awsRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1]
  if (awsRegion !== undefined) return { ...timeouts, region: env.AWS_REGION ?? awsRegion }
  return {
    ...timeouts,
    endpoint: url.origin,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...localCredentials(url.origin, env),
  }
}
