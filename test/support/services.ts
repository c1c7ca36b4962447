/**
 * Helpers for integration tests: the real services started by global-setup.ts, a fresh
 * random topic per test, producing, and reading the offsets table directly.
 */
import { randomUUID } from 'node:crypto'
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb'
import { Admin } from '@platformatic/kafka'
import { inject } from 'vitest'
import { createSender, createTopic, type SampleMessage } from '../../src/kafka/topics.ts'
import { dynamoDbClientConfig } from '../../src/runtime/create-runtime.ts'
import { createQueue } from './moto-server.ts'

export function services() {
  return {
    bootstrapServers: inject('kafkaBootstrapServers'),
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    table: inject('offsetsTable'),
    sqsEndpoint: inject('sqsEndpoint'),
  }
}

/** A new SQS queue on the test SQS server, with a unique name; returns its URL. */
export async function freshQueue(maximumMessageSize?: number): Promise<string> {
  return createQueue(services().sqsEndpoint, `q-${randomUUID().slice(0, 8)}`, maximumMessageSize)
}

/** A new topic with a unique name, so tests never see each other's messages or offsets. */
export async function freshTopic(partitions: number, configs?: Record<string, string>): Promise<string> {
  const topic = `t-${randomUUID().slice(0, 8)}`
  await createTopic({
    bootstrapServers: [services().bootstrapServers],
    topic,
    partitions,
    ...(configs && { configs }),
  })
  return topic
}

/**
 * Deletes the topic and creates it again under the same name, empty, as an operator would (or a
 * cluster migration): it gets a new topic id. The broker deletes asynchronously; creating is
 * retried until the old one is gone.
 */
export async function recreateTopic(
  topic: string,
  partitions: number,
  bootstrapServers = services().bootstrapServers,
): Promise<void> {
  const admin = new Admin({ clientId: 'lkc-test-admin', bootstrapBrokers: [bootstrapServers] })
  try {
    await admin.deleteTopics({ topics: [topic] })
    for (let attempt = 0; ; attempt++) {
      const existing = await admin.listTopics()
      if (!existing.includes(topic)) {
        try {
          await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
          return
        } catch (error) {
          if (attempt >= 100) throw error
        }
      } else if (attempt >= 100) {
        throw new Error(`topic ${topic} still listed 10 s after it was deleted`)
      }
      await new Promise((wait) => setTimeout(wait, 100))
    }
  } finally {
    await admin.close()
  }
}

/** The environment a handler needs to reach the test services. */
export function consumerEnv(topic: string, overrides: Record<string, string> = {}): Record<string, string> {
  const { bootstrapServers, dynamodbEndpoint, table } = services()
  return {
    KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
    KAFKA_TOPIC: topic,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    DYNAMODB_TABLE: table,
    LOG_LEVEL: 'WARN',
    ...overrides,
  }
}

export async function produce(topic: string, messages: readonly SampleMessage[]): Promise<void> {
  const sender = createSender([services().bootstrapServers])
  try {
    await sender.send(topic, messages)
  } finally {
    await sender.close()
  }
}

/** `count` JSON messages spread round-robin over `partitions`, each value naming its partition and index. */
export function numberedMessages(count: number, partitions: number): SampleMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `k${index}`,
    value: JSON.stringify({ index }),
    partition: index % partitions,
  }))
}

export function dynamodb(endpoint = services().dynamodbEndpoint): DynamoDBClient {
  return new DynamoDBClient(dynamoDbClientConfig({ dynamodbEndpoint: endpoint }, {}))
}

/** Which DynamoDB API server and table to read; by default the ones the test setup started. */
export interface TableLocation {
  readonly endpoint: string
  readonly table: string
}

export interface OffsetItem {
  partition: number
  offset: number
  topic: string
  group_id: string
  consumer_id: string
  updated_at?: string
  topic_id?: string
  /** The recorded mismatch's reason, when a run found the offset does not fit its log. */
  offset_mismatch?: string
}

/**
 * Every offset item stored under `consumer_id`, read straight from the table (not through the
 * store); the items without an offset (the consumer's start record) are left out.
 */
export async function storedItems(consumerId: string, location?: TableLocation): Promise<OffsetItem[]> {
  const { endpoint, table } = location ?? { endpoint: services().dynamodbEndpoint, table: services().table }
  const client = dynamodb(endpoint)
  try {
    const result = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'consumer_id = :id AND #p >= :first',
        ExpressionAttributeNames: { '#p': 'partition' },
        ExpressionAttributeValues: { ':id': { S: consumerId }, ':first': { N: '0' } },
        ConsistentRead: true,
      }),
    )
    return (result.Items ?? [])
      .filter((item) => item.offset?.N !== undefined)
      .map((item) => ({
        consumer_id: item.consumer_id!.S!,
        partition: Number(item.partition!.N),
        offset: Number(item.offset!.N),
        topic: item.topic!.S!,
        group_id: item.group_id!.S!,
        ...(item.updated_at?.S && { updated_at: item.updated_at.S }),
        ...(item.topic_id?.S && { topic_id: item.topic_id.S }),
        ...(item.offset_mismatch?.M?.reason?.S && { offset_mismatch: item.offset_mismatch.M.reason.S }),
      }))
  } finally {
    client.destroy()
  }
}

/** The consumer's start record (`partition` = 2^31) as stored, every attribute as a string; undefined when absent. */
export async function startRecord(consumerId: string): Promise<Record<string, string> | undefined> {
  return itemAt(consumerId, 2 ** 31)
}

/** The run lease item (`partition` = -1) as stored, every attribute as a string; undefined when absent. */
export async function leaseItem(consumerId: string): Promise<Record<string, string> | undefined> {
  return itemAt(consumerId, -1)
}

async function itemAt(consumerId: string, partition: number): Promise<Record<string, string> | undefined> {
  const client = dynamodb()
  try {
    const result = await client.send(
      new GetItemCommand({
        TableName: services().table,
        Key: { consumer_id: { S: consumerId }, partition: { N: String(partition) } },
        ConsistentRead: true,
      }),
    )
    if (result.Item === undefined) return undefined
    return Object.fromEntries(
      Object.entries(result.Item).map(([name, value]) => [name, value.S ?? value.N ?? JSON.stringify(value)]),
    )
  } finally {
    client.destroy()
  }
}

/** Writes an item exactly as the seed's Python design does: five attributes, no more. */
export async function putSeedItem(groupId: string, topic: string, partition: number, offset: number) {
  const client = dynamodb()
  try {
    await client.send(
      new PutItemCommand({
        TableName: services().table,
        Item: {
          consumer_id: { S: `${groupId}_${topic}` },
          partition: { N: String(partition) },
          offset: { N: String(offset) },
          topic: { S: topic },
          group_id: { S: groupId },
        },
      }),
    )
  } finally {
    client.destroy()
  }
}
