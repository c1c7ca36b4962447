/**
 * The scheduled consume cycle end to end, through the Lambda handler, against the real Kafka
 * broker and the real DynamoDB API server (no mocks of either).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import { MessagesFailedError } from '../../../src/cycle/errors.ts'
import { type ConsumerHandler, createHandler, type RunReport } from '../../../src/lambda/handler.ts'
import { DynamoDbRunLease } from '../../../src/offsets/dynamodb-run-lease.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { drainQueue } from '../../support/moto-server.ts'
import {
  consumerEnv,
  dynamodb,
  freshQueue,
  freshTopic,
  leaseItem,
  numberedMessages,
  produce,
  putSeedItem,
  services,
  storedItems,
} from '../../support/services.ts'
import { transactionalProducer, transactionsSettled } from '../../support/transactions.ts'

const context = { getRemainingTimeInMillis: () => 60_000 }
const GROUP = 'lambda-consumer-group'
const handlers: ConsumerHandler[] = []

afterEach(async () => {
  await Promise.all(handlers.splice(0).map((handler) => handler.close()))
})

/** A handler whose processor records every message it is given. */
function recordingHandler(env: Record<string, string>) {
  const seen: KafkaMessage[] = []
  const handler = createHandler({ env, process: (message) => void seen.push(message) })
  handlers.push(handler)
  return { handler, seen }
}

const key = (message: { partition: number; offset: number }) => `${message.partition}:${message.offset}`

describe('the scheduled consume cycle', () => {
  it('processes 2,500 messages on 3 partitions as 1000, 1000 and 500, every offset exactly once', async () => {
    // Prepare
    const topic = await freshTopic(3)
    await produce(topic, numberedMessages(2500, 3))
    const { handler, seen } = recordingHandler(consumerEnv(topic, { MAX_MESSAGES: '1000' }))

    // Act
    const counts: number[] = []
    for (let run = 0; run < 3; run++) counts.push((await handler({}, context)).count)
    const itemsAfterThree = await storedItems(`${GROUP}_${topic}`)
    const fourth = await handler({}, context)
    const itemsAfterFour = await storedItems(`${GROUP}_${topic}`)

    // Assess
    expect(counts).toEqual([1000, 1000, 500])
    expect(seen).toHaveLength(2500)
    expect(new Set(seen.map(key)).size).toBe(2500)
    for (const partition of [0, 1, 2]) {
      const offsets = seen
        .filter((message) => message.partition === partition)
        .map((message) => message.offset)
      const expected = Array.from({ length: partition === 0 ? 834 : 833 }, (_, index) => index)
      expect(offsets.sort((a, b) => a - b)).toEqual(expected)
    }
    expect(itemsAfterThree.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 833 },
      { partition: 1, offset: 832 },
      { partition: 2, offset: 832 },
    ])
    expect(itemsAfterThree.every((item) => item.topic === topic && item.group_id === GROUP)).toBe(true)
    expect(fourth.count).toBe(0)
    expect(fourth.offsetsWritten).toBe(0)
    expect(itemsAfterFour).toEqual(itemsAfterThree)
  })

  it('hands the processor the parsed JSON with key, headers, topic, partition, offset and timestamp', async () => {
    const topic = await freshTopic(1)
    const before = Date.now()
    await produce(topic, [
      { key: 'order-7', value: '{"orderId":7,"items":["tea"]}', headers: { source: 'test' } },
    ])
    const { handler, seen } = recordingHandler(consumerEnv(topic))

    await handler({}, context)

    expect(seen).toHaveLength(1)
    const [message] = seen
    expect(message).toMatchObject({
      topic,
      partition: 0,
      offset: 0,
      key: 'order-7',
      value: { orderId: 7, items: ['tea'] },
    })
    expect(message!.headers.get('source')).toBe('test')
    expect(message!.timestamp).toBeGreaterThanOrEqual(before - 1000)
  })

  it('continues at the stored offset + 1 in a new handler (a restarted process)', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(40, 2))
    const first = recordingHandler(consumerEnv(topic, { MAX_MESSAGES: '10' }))
    await first.handler({}, context)
    await first.handler.close()

    const second = recordingHandler(consumerEnv(topic))
    const report = await second.handler({}, context)

    expect(first.seen).toHaveLength(10)
    expect(report.count).toBe(30)
    const all = [...first.seen, ...second.seen].map(key)
    expect(new Set(all).size).toBe(40)
    for (const partition of report.partitions) {
      const firstRunLast = Math.max(
        -1,
        ...first.seen.filter((m) => m.partition === partition.partition).map((m) => m.offset),
      )
      expect(partition.fromOffset).toBe(firstRunLast + 1)
    }
  })

  it('starts a partition without a stored offset at its first message with START_POSITION=earliest', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(6, 2))
    const { handler, seen } = recordingHandler(consumerEnv(topic, { START_POSITION: 'earliest' }))

    const report = await handler({}, context)

    expect(report.count).toBe(6)
    expect(seen.map(key).sort()).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2'])
  })

  it('starts at the end with START_POSITION=latest, remembers where, and takes only newer messages', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(6, 2))
    const { handler, seen } = recordingHandler(consumerEnv(topic, { START_POSITION: 'latest' }))

    const first = await handler({}, context)
    const itemsAfterFirst = await storedItems(`${GROUP}_${topic}`)
    await produce(topic, [
      { value: '{"late":1}', partition: 0 },
      { value: '{"late":2}', partition: 1 },
    ])
    const second = await handler({}, context)

    expect(first.count).toBe(0)
    // Saved though nothing was processed: otherwise messages produced before the next run would be skipped.
    expect(itemsAfterFirst.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 2 },
      { partition: 1, offset: 2 },
    ])
    expect(second.count).toBe(2)
    expect(seen.map((message) => message.value)).toEqual(expect.arrayContaining([{ late: 1 }, { late: 2 }]))
    expect(seen.map(key).sort()).toEqual(['0:3', '1:3'])
  })

  it("honours an item written in the seed's exact format by the Python design", async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(10, 1))
    await putSeedItem(GROUP, topic, 0, 6)
    const { handler, seen } = recordingHandler(consumerEnv(topic))

    const report = await handler({}, context)
    const [item] = await storedItems(`${GROUP}_${topic}`)

    expect(seen.map((message) => message.offset)).toEqual([7, 8, 9])
    expect(report.partitions[0]).toMatchObject({ fromOffset: 7, toOffset: 9, count: 3 })
    expect(item).toMatchObject({
      consumer_id: `${GROUP}_${topic}`,
      partition: 0,
      offset: 9,
      topic,
      group_id: GROUP,
    })
  })

  it('stops a partition before a message that is not JSON, goes on with the others, and reports it', async () => {
    const topic = await freshTopic(2)
    await produce(topic, [
      { value: '{"n":0}', partition: 0 },
      { value: '{"n":1}', partition: 0 },
      { value: 'not json {', partition: 0 },
      { value: '{"n":3}', partition: 0 },
      { value: '{"n":10}', partition: 1 },
      { value: '{"n":11}', partition: 1 },
    ])
    const { handler, seen } = recordingHandler(consumerEnv(topic))

    const error = await handler({}, context).catch((thrown: unknown) => thrown)
    const items = await storedItems(`${GROUP}_${topic}`)
    const again = await handler({}, context).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(MessagesFailedError)
    expect((error as MessagesFailedError).failures).toEqual([
      expect.objectContaining({ partition: 0, offset: 2, reason: expect.stringContaining('not JSON') }),
    ])
    expect((error as Error).message).toContain('partition 0 at offset 2')
    expect(seen.map(key).sort()).toEqual(['0:0', '0:1', '1:0', '1:1'])
    expect(items.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 1 },
      { partition: 1, offset: 1 },
    ])
    // The next run stops at the same message again: it is never skipped silently.
    expect(again).toBeInstanceOf(MessagesFailedError)
    expect(seen).toHaveLength(4)
  })

  it('fails at start with an error naming a bad config value, before touching Kafka or DynamoDB', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(3, 1))
    const { handler, seen } = recordingHandler(consumerEnv(topic, { MAX_MESSAGES: 'lots' }))

    const error = await handler({}, context).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain('MAX_MESSAGES="lots"')
    expect((error as Error).message).toContain('a whole number from 1 to 10000000')
    expect(seen).toHaveLength(0)
    expect(await storedItems(`${GROUP}_${topic}`)).toEqual([])
  })

  it("returns a summary with each partition's from-offset, to-offset and count, the total and the duration", async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(5, 2))
    const { handler } = recordingHandler(consumerEnv(topic))

    const report: RunReport = await handler({}, context)

    expect(report).toMatchObject({
      topic,
      consumerId: `${GROUP}_${topic}`,
      count: 5,
      stopReason: 'caught-up',
      partitions: [
        { partition: 0, fromOffset: 0, toOffset: 2, count: 3, lag: 0 },
        { partition: 1, fromOffset: 0, toOffset: 1, count: 2, lag: 0 },
      ],
    })
    expect(report.durationMs).toBeGreaterThanOrEqual(0)
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
  })

  it('retries a message the processor keeps failing on, dead-letters it to SQS, and moves on', async () => {
    const topic = await freshTopic(1)
    const queueUrl = await freshQueue()
    await produce(topic, [
      { key: 'k0', value: '{"n":0}', partition: 0 },
      { key: 'k1', value: '{"n":1,"poison":true}', partition: 0 },
      { key: 'k2', value: 'not json', partition: 0 },
      { key: 'k3', value: '{"n":3}', partition: 0 },
    ])
    let calls = 0
    const processed: number[] = []
    const handler = createHandler<{ n: number; poison?: boolean }>({
      env: consumerEnv(topic, { DEAD_LETTER_QUEUE_URL: queueUrl, PROCESSING_RETRY_DELAY_MS: '10' }),
      process: (message) => {
        calls++
        if (message.value?.poison) throw new Error('poison order')
        processed.push(message.value?.n ?? -1)
      },
    })
    handlers.push(handler)

    const report = await handler({}, context)
    const letters = (await drainQueue(services().sqsEndpoint, queueUrl)).map(
      (letter) =>
        letter.body as { offset: number; reason: string; attempts: number; error: { message: string } },
    )
    const [item] = await storedItems(`${GROUP}_${topic}`)

    expect(processed).toEqual([0, 3])
    expect(calls).toBe(5)
    expect(report).toMatchObject({ count: 2, deadLettered: 2, failures: [] })
    expect(letters.map(({ offset, reason, attempts }) => ({ offset, reason, attempts }))).toEqual([
      { offset: 1, reason: 'processing-failed', attempts: 3 },
      { offset: 2, reason: 'not-json', attempts: 0 },
    ])
    expect(letters[0]!.error.message).toBe('poison order')
    expect(item?.offset).toBe(3)
  })

  it('returns at once, without error and without consuming, while another run holds the lease', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(3, 1))
    const { handler: holder } = recordingHandler(consumerEnv(topic))
    const { handler, seen } = recordingHandler(consumerEnv(topic))
    const lease = new DynamoDbRunLease(dynamodb(), { table: services().table, topic, groupId: GROUP })
    await lease.acquire('someone-else', Date.now(), 60_000)

    const report = await handler({}, context)
    await lease.release('someone-else', Date.now())
    const after = await holder({}, context)

    expect(report).toMatchObject({ stopReason: 'lease-held', count: 0, lease: { holder: 'someone-else' } })
    expect(seen).toHaveLength(0)
    expect(after.count).toBe(3)
    expect((await leaseItem(`${GROUP}_${topic}`))?.lease_owner).toMatch(/^local\//)
  })

  it('processes only committed transactional messages, and a second run finds nothing and writes nothing', async () => {
    const topic = await freshTopic(1)
    const transactions = transactionalProducer(services().bootstrapServers)
    const tx = (key: string) => ({ key, value: JSON.stringify({ key }), partition: 0 })
    await transactions.transaction(topic, [tx('c1'), tx('c2')], 'commit')
    await transactions.transaction(topic, [tx('a1'), tx('a2')], 'abort')
    await transactions.transaction(topic, [tx('c3')], 'commit')
    await transactions.transaction(topic, [tx('a3')], 'abort')
    await transactions.close()
    await transactionsSettled(services().bootstrapServers, topic)
    const { handler, seen } = recordingHandler(consumerEnv(topic))

    const first = await handler({}, context)
    const [item] = await storedItems(`${GROUP}_${topic}`)
    const second = await handler({}, context)

    expect(seen.map((message) => (message.value as { key: string }).key)).toEqual(['c1', 'c2', 'c3'])
    expect(first.stopReason).toBe('caught-up')
    // 0 1 c1 c2, 2 commit, 3 4 aborted, 5 abort, 6 c3, 7 commit, 8 aborted, 9 abort: the last offset seen.
    expect(item?.offset).toBe(9)
    expect(second).toMatchObject({ count: 0, offsetsWritten: 0, stopReason: 'caught-up' })
  })
})
