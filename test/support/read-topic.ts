/**
 * Reads a whole topic from the outside, for assertions: a plain consumer-group consumer of
 * @platformatic/kafka (its stream API, a different code path from the consumer under test),
 * from the earliest offset up to the end offsets seen when the read starts.
 */
import { randomUUID } from 'node:crypto'
import { Consumer, MessagesStreamModes } from '@platformatic/kafka'

export interface TopicRecord {
  readonly partition: number
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Array<[Buffer, Buffer]>
}

export async function readTopic(
  bootstrapServers: string,
  topic: string,
  timeoutMs = 30_000,
): Promise<TopicRecord[]> {
  const consumer = new Consumer({
    clientId: 'lkc-test-reader',
    groupId: `reader-${randomUUID()}`,
    bootstrapBrokers: [bootstrapServers],
    autocreateTopics: false,
    maxWaitTime: 200,
  })
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? []
    const remaining = new Map<number, bigint>()
    for (const [partition, end] of ends.entries()) if (end > 0n) remaining.set(partition, end - 1n)
    const records: TopicRecord[] = []
    if (remaining.size === 0) return records
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })
    const timer = setTimeout(() => void stream.close(), timeoutMs)
    try {
      for await (const message of stream) {
        records.push({
          partition: message.partition,
          offset: Number(message.offset),
          key: message.key && message.key.length > 0 ? message.key : null,
          value: message.value ?? null,
          headers: message.headerEntries,
        })
        const last = remaining.get(message.partition)
        if (last !== undefined && message.offset >= last) remaining.delete(message.partition)
        if (remaining.size === 0) break
      }
    } finally {
      clearTimeout(timer)
      await stream.close()
    }
    if (remaining.size > 0)
      throw new Error(`readTopic(${topic}): timed out before the end of partitions ${[...remaining.keys()]}`)
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  } finally {
    await consumer.close(true)
  }
}
