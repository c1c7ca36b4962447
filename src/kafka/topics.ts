/**
 * Topic administration for local runs, tests and benchmarks: creating a topic and producing
 * sample JSON messages. The consumer itself never creates topics or writes to Kafka.
 */
import { Admin, Producer, stringSerializers } from '@platformatic/kafka'
import { securityErrorOf } from './connection-errors.ts'
import { type KafkaSecurity, PLAINTEXT_SECURITY } from './connection-options.ts'

export interface TopicSpec {
  readonly bootstrapServers: readonly string[]
  readonly topic: string
  readonly partitions: number
  /** Broker-side topic configs, e.g. `{ 'retention.ms': '1000' }`. */
  readonly configs?: Readonly<Record<string, string>>
  /** TLS and SASL; default: PLAINTEXT. */
  readonly security?: KafkaSecurity
}

/** Creates the topic unless it exists; returns true when it created it. */
export async function createTopic(spec: TopicSpec): Promise<boolean> {
  const security = spec.security ?? PLAINTEXT_SECURITY
  const admin = new Admin({
    ...security.client,
    clientId: 'lkc-admin',
    bootstrapBrokers: [...spec.bootstrapServers],
  })
  try {
    const existing = await admin.listTopics()
    if (existing.includes(spec.topic)) return false
    await admin.createTopics({
      topics: [spec.topic],
      partitions: spec.partitions,
      replicas: 1,
      ...(spec.configs && {
        configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      }),
    })
    return true
  } finally {
    await admin.close()
  }
}

export interface SampleMessage {
  readonly key?: string
  /** Sent as is: a string that is not JSON is how tests make a bad message. */
  readonly value: string | null
  readonly partition?: number
  readonly headers?: Readonly<Record<string, string>>
}

export interface Sender {
  send(topic: string, messages: readonly SampleMessage[]): Promise<void>
  close(): Promise<void>
}

/** A producer for sample data (idempotent, acks=all), sending in batches of `batchSize`. */
export function createSender(
  bootstrapServers: readonly string[],
  batchSize = 5000,
  security: KafkaSecurity = PLAINTEXT_SECURITY,
): Sender {
  const producer = new Producer({
    ...security.client,
    clientId: 'lkc-producer',
    bootstrapBrokers: [...bootstrapServers],
    serializers: stringSerializers,
    autocreateTopics: false,
    // Without idempotence a retried send right after topic creation can write a batch twice.
    idempotent: true,
    acks: -1,
  })
  return {
    async send(topic, messages) {
      try {
        for (let start = 0; start < messages.length; start += batchSize) {
          await producer.send({
            messages: messages.slice(start, start + batchSize).map((message) => ({
              topic,
              key: message.key ?? undefined,
              value: message.value ?? undefined,
              ...(message.partition !== undefined && { partition: message.partition }),
              ...(message.headers && { headers: message.headers }),
            })),
          })
        }
      } catch (error) {
        throw securityErrorOf(error, security.auth, bootstrapServers) ?? error
      }
    },
    close: () => producer.close(),
  }
}

/** `count` sample orders as JSON, numbered from `first`: the demo's and the tests' data. */
export function sampleMessages(count: number, first = 0): SampleMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const id = first + index
    return {
      key: `order-${id}`,
      value: JSON.stringify({
        orderId: id,
        item: ITEMS[id % ITEMS.length],
        quantity: (id % 5) + 1,
        at: new Date().toISOString(),
      }),
    }
  })
}

const ITEMS = ['coffee', 'tea', 'croissant', 'bagel', 'juice', 'muffin']
