/**
 * The Kafka source's fetch path (the lean Fetch decoder inside the client's fetch machinery)
 * against the real broker: every compression codec, and transactions, where aborted records
 * and commit/abort markers must never reach the processor while offsets step over them.
 */
import { Producer, stringSerializers } from '@platformatic/kafka'
import { afterEach, describe, expect, it } from 'vitest'
import { type ConsumerHandler, createHandler } from '../../../src/lambda/handler.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { consumerEnv, freshTopic, services, storedItems } from '../../support/services.ts'

const context = { getRemainingTimeInMillis: () => 60_000 }
const closers: Array<() => Promise<unknown>> = []

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

function recordingHandler(topic: string): { handler: ConsumerHandler; seen: KafkaMessage[] } {
  const seen: KafkaMessage[] = []
  const handler = createHandler({
    env: consumerEnv(topic, { MAX_MESSAGES: '100000' }),
    process: (message) => void seen.push(message),
  })
  closers.push(() => handler.close())
  return { handler, seen }
}

function producer(options: { transactionalId?: string } = {}) {
  const created = new Producer({
    clientId: 'lkc-test-producer',
    bootstrapBrokers: [services().bootstrapServers],
    serializers: stringSerializers,
    autocreateTopics: false,
    idempotent: true,
    acks: -1,
    ...(options.transactionalId && { transactionalId: options.transactionalId }),
  })
  closers.push(() => created.close())
  return created
}

const orders = (partition: number, first: number, count: number, note = '') =>
  Array.from({ length: count }, (_, index) => ({
    key: `order-${first + index}`,
    value: JSON.stringify({ partition, id: first + index, note }),
    partition,
    headers: { codec: note },
  }))

describe('the Kafka source reading real batches', () => {
  it('decodes batches in every compression codec, with keys and headers', async () => {
    // Prepare
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
    const topic = await freshTopic(codecs.length)
    const sender = producer()
    for (const [partition, codec] of codecs.entries()) {
      await sender.send({
        messages: orders(partition, 0, 300, codec).map((message) => ({ ...message, topic })),
        compression: codec,
      })
    }
    const { handler, seen } = recordingHandler(topic)

    // Act
    const report = await handler({}, context)

    // Assess
    expect(report.count).toBe(codecs.length * 300)
    for (const [partition, codec] of codecs.entries()) {
      const inPartition = seen.filter((message) => message.partition === partition)
      expect(inPartition.map((message) => message.offset)).toEqual(
        Array.from({ length: 300 }, (_, index) => index),
      )
      expect(inPartition.map((message) => (message.value as { id: number }).id)).toEqual(
        Array.from({ length: 300 }, (_, index) => index),
      )
      expect(inPartition[7]).toMatchObject({ key: 'order-7', value: { note: codec } })
      expect(inPartition[7]!.headers.get('codec')).toBe(codec)
    }
  })

  it('skips aborted transactions and transaction markers, and saves an offset past them', async () => {
    // Prepare
    const topic = await freshTopic(1)
    const transactional = producer({ transactionalId: `lkc-test-${topic}` })
    const committed = await transactional.beginTransaction()
    await committed.send({ messages: orders(0, 0, 3, 'first').map((message) => ({ ...message, topic })) })
    await committed.commit()
    const aborted = await transactional.beginTransaction()
    await aborted.send({ messages: orders(0, 100, 4, 'aborted').map((message) => ({ ...message, topic })) })
    await aborted.abort()
    const last = await transactional.beginTransaction()
    await last.send({ messages: orders(0, 3, 2, 'last').map((message) => ({ ...message, topic })) })
    await last.commit()
    const { handler, seen } = recordingHandler(topic)

    // Act
    const first = await handler({}, context)
    const again = await handler({}, context)
    const items = await storedItems(`lambda-consumer-group_${topic}`)

    // Assess
    expect(seen.map((message) => (message.value as { id: number }).id)).toEqual([0, 1, 2, 3, 4])
    expect(seen.map((message) => message.offset)).toEqual([0, 1, 2, 9, 10])
    expect(first.count).toBe(5)
    // 3 records + marker, 4 aborted + marker, 2 records + marker: offsets 0 to 11
    expect(items.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 11 },
    ])
    expect(again.count).toBe(0)
    expect(again.offsetsWritten).toBe(0)
  })
})
