/**
 * Partition shards end to end: two handlers, SHARD_COUNT=2, on one 6-partition topic, against
 * the real Kafka broker and the real DynamoDB API server, running side by side.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type ConsumerHandler, createHandler } from '../../../src/lambda/handler.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { consumerEnv, freshTopic, numberedMessages, produce, storedItems } from '../../support/services.ts'

const context = { getRemainingTimeInMillis: () => 60_000 }
const handlers: ConsumerHandler[] = []

afterEach(async () => {
  await Promise.all(handlers.splice(0).map((handler) => handler.close()))
})

function shardHandler(topic: string, index: number) {
  const seen: KafkaMessage[] = []
  const handler = createHandler({
    env: consumerEnv(topic, { SHARD_COUNT: '2', SHARD_INDEX: String(index), MAX_MESSAGES: '100000' }),
    process: (message) => void seen.push(message),
  })
  handlers.push(handler)
  return { handler, seen }
}

const key = (message: { partition: number; offset: number }) => `${message.partition}:${message.offset}`

describe('two shards on six partitions', () => {
  it('each consumes only its own partitions; together every message exactly once', async () => {
    // Prepare
    const topic = await freshTopic(6)
    await produce(topic, numberedMessages(600, 6))
    const even = shardHandler(topic, 0)
    const odd = shardHandler(topic, 1)

    // Act
    const [evenReport, oddReport] = await Promise.all([even.handler({}, context), odd.handler({}, context)])
    await produce(topic, numberedMessages(60, 6))
    const [evenAgain, oddAgain] = await Promise.all([even.handler({}, context), odd.handler({}, context)])
    const items = await storedItems(`lambda-consumer-group_${topic}`)

    // Assess
    expect(new Set(even.seen.map((message) => message.partition))).toEqual(new Set([0, 2, 4]))
    expect(new Set(odd.seen.map((message) => message.partition))).toEqual(new Set([1, 3, 5]))
    expect([evenReport.count, oddReport.count]).toEqual([300, 300])
    expect([evenAgain.count, oddAgain.count]).toEqual([30, 30])
    expect(evenReport.partitions.map((partition) => partition.partition)).toEqual([0, 2, 4])
    const all = [...even.seen, ...odd.seen].map(key)
    expect(all).toHaveLength(660)
    expect(new Set(all).size).toBe(660)
    expect(items.map(({ partition, offset }) => ({ partition, offset }))).toEqual(
      [0, 1, 2, 3, 4, 5].map((partition) => ({ partition, offset: 109 })),
    )
  })
})
