/**
 * The whole local stack in one call: a real Kafka broker and the DynamoDB API (dynalite),
 * the topic and the offsets table created, and the environment that points the consumer at
 * them. Used by `lkc demo`, `lkc local` and the integration tests' global setup.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { createTopic } from '../kafka/topics.ts'
import { createOffsetsTable } from '../offsets/offsets-table.ts'
import { dynamoDbClientConfig } from '../runtime/create-runtime.ts'
import { type DynamoDbServer, startDynamoDbServer } from './dynamodb-server.ts'
import { type KafkaBroker, type KafkaBrokerOptions, startKafkaBroker } from './kafka-broker.ts'

export interface LocalStackOptions {
  /** Created with `partitions` partitions unless it exists, with its dead-letter topic `<topic>.dlq`. */
  readonly topic?: string
  readonly partitions?: number
  readonly table?: string
  readonly broker?: KafkaBrokerOptions
  /** Starts the broker instead of `startKafkaBroker(broker)`, e.g. the secured one of `lkc local --secure`. */
  readonly startBroker?: () => Promise<KafkaBroker>
}

export interface LocalStack {
  readonly broker: KafkaBroker
  readonly dynamodb: DynamoDbServer
  /**
   * KAFKA_BOOTSTRAP_SERVERS, DYNAMODB_ENDPOINT, DYNAMODB_TABLE, and when a topic was given,
   * KAFKA_TOPIC and DEAD_LETTER_TOPIC (`<topic>.dlq`: locally, dead letters go to Kafka).
   */
  readonly env: Readonly<Record<string, string>>
  stop(): Promise<void>
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const table = options.table ?? 'kafka-consumer-offsets'
  const dynamodb = await startDynamoDbServer()
  let broker: KafkaBroker
  try {
    broker = await (options.startBroker?.() ?? startKafkaBroker(options.broker))
  } catch (error) {
    await dynamodb.stop()
    throw error
  }
  const stop = async () => {
    await Promise.allSettled([broker.stop(), dynamodb.stop()])
  }
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig({ dynamodbEndpoint: dynamodb.endpoint }, {}))
    await createOffsetsTable(client, table)
    client.destroy()
    if (options.topic) {
      await createTopic({
        bootstrapServers: [broker.bootstrapServers],
        topic: options.topic,
        partitions: options.partitions ?? 3,
      })
      await createTopic({
        bootstrapServers: [broker.bootstrapServers],
        topic: `${options.topic}.dlq`,
        partitions: 1,
      })
    }
  } catch (error) {
    await stop()
    throw error
  }
  return {
    broker,
    dynamodb,
    env: {
      KAFKA_BOOTSTRAP_SERVERS: broker.bootstrapServers,
      DYNAMODB_ENDPOINT: dynamodb.endpoint,
      DYNAMODB_TABLE: table,
      ...(options.topic && { KAFKA_TOPIC: options.topic, DEAD_LETTER_TOPIC: `${options.topic}.dlq` }),
    },
    stop,
  }
}
