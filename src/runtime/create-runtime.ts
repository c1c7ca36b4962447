/**
 * Builds the outside-world adapters from the configuration: the Kafka source and the offset
 * store on a DynamoDB client. Shared by the Lambda handler and `lkc`, so both run the same
 * code; created once per process and kept across warm invocations.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import type { Config, Environment } from '../config/schema.ts'
import { createKafkaSecurity, type KafkaSecurityDependencies } from '../kafka/connection-options.ts'
import { PlatformaticKafkaSource } from '../kafka/platformatic-kafka-source.ts'
import { DynamoDbOffsetStore } from '../offsets/dynamodb-offset-store.ts'

export interface Runtime {
  readonly config: Config
  readonly source: PlatformaticKafkaSource
  readonly offsets: DynamoDbOffsetStore
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
  const offsets = new DynamoDbOffsetStore(dynamodb, {
    table: config.dynamodbTable,
    topic: config.kafkaTopic,
    groupId: config.kafkaGroupId,
  })
  return {
    config,
    source,
    offsets,
    dynamodb,
    async close() {
      dynamodb.destroy()
      await source.close()
    },
  }
}

/**
 * AWS DynamoDB through the default credential chain, or the endpoint in DYNAMODB_ENDPOINT.
 * A loopback endpoint (the local stack) needs no real credentials: placeholders are used
 * when none are set, so `lkc` works on a machine that has never seen AWS.
 */
export function dynamoDbClientConfig(
  config: Pick<Config, 'dynamodbEndpoint'>,
  env: Environment,
): DynamoDBClientConfig {
  const endpoint = config.dynamodbEndpoint
  if (endpoint === undefined) return {}
  const loopback = /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?\/?$/.test(endpoint)
  return {
    endpoint,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(loopback &&
      env.AWS_ACCESS_KEY_ID === undefined &&
      env.AWS_PROFILE === undefined && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  }
}
