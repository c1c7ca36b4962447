/**
 * Reads a whole topic from the outside, for assertions: a plain consumer-group consumer of
 * @platformatic/kafka (its stream API, a different code path from the consumer under test),
 * from the earliest offset up to the end offsets seen when the read starts. A partition that
 * ends with transaction markers (never delivered) ends the read once nothing more has arrived
 * for `idleMs`.
 *
 * read_uncommitted on purpose: every data record in the log, aborted ones included; a test
 * that uses transactions tells committed from aborted by what it produced. (The client's own
 * read_committed filtering keeps one aborted range per producer, so when one producer aborted
 * two transactions in the same fetch, the first one's records come through: not a reference.)
 */
import { randomUUID } from 'node:crypto'
import { Consumer, FetchIsolationLevels, type Message, MessagesStreamModes } from '@platformatic/kafka'

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
  idleMs = 2000,
): Promise<TopicRecord[]> {
  const consumer = new Consumer({
    clientId: 'lkc-test-reader',
    groupId: `reader-${randomUUID()}`,
    bootstrapBrokers: [bootstrapServers],
    autocreateTopics: false,
    maxWaitTime: 200,
    isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
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
    let idle: NodeJS.Timeout | undefined
    let timer: NodeJS.Timeout | undefined
    const outcome = await new Promise<'complete' | 'idle' | 'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
      stream.on('data', (message: Message) => {
        // Idle time counts from the first message: joining the group may take a while.
        clearTimeout(idle)
        idle = setTimeout(() => resolve('idle'), idleMs)
        records.push({
          partition: message.partition,
          offset: Number(message.offset),
          key: message.key && message.key.length > 0 ? message.key : null,
          value: message.value ?? null,
          headers: message.headerEntries,
        })
        const last = remaining.get(message.partition)
        if (last !== undefined && message.offset >= last) remaining.delete(message.partition)
        if (remaining.size === 0) resolve('complete')
      })
    })
    clearTimeout(idle)
    clearTimeout(timer)
    stream.pause()
    await stream.close()
    if (outcome === 'timeout') {
      throw new Error(`readTopic(${topic}): timed out before the end of partitions ${[...remaining.keys()]}`)
    }
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  } finally {
    await consumer.close(true)
  }
}
