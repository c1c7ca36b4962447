/**
 * The Kafka source against the real broker, with a real transactional producer: read_committed
 * filtering of aborted records, control markers stepped over, and the last stable offset as
 * the end while a transaction is open.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { PlatformaticKafkaSource } from '../../../src/kafka/platformatic-kafka-source.ts'
import { freshTopic, produce, recreateTopic, services } from '../../support/services.ts'
import { transactionalProducer, transactionsSettled } from '../../support/transactions.ts'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

function source() {
  const kafka = new PlatformaticKafkaSource({
    bootstrapServers: [services().bootstrapServers],
    clientId: 'test',
    requestTimeoutMs: 5000,
    fetchMaxBytes: 1_048_576,
    fetchPartitionMaxBytes: 1_048_576,
    fetchMaxWaitMs: 100,
  })
  closers.push(() => kafka.close())
  return kafka
}

function producer() {
  const transactions = transactionalProducer(services().bootstrapServers)
  closers.push(() => transactions.close())
  return transactions
}

const message = (key: string) => ({ key, value: JSON.stringify({ key }), partition: 0 })
const valuesOf = (records: ReadonlyArray<{ value: Buffer | null }>) =>
  records.map((record) => (JSON.parse(record.value!.toString()) as { key: string }).key)

describe('PlatformaticKafkaSource with transactions', () => {
  it('never returns aborted records, and covers markers and aborted records up to the end', async () => {
    // Prepare: committed, aborted (with a plain message in between), committed.
    const topic = await freshTopic(1)
    const transactions = producer()
    await transactions.transaction(topic, [message('c1'), message('c2')], 'commit')
    const abort = await transactions.open(topic, [message('a1')])
    await produce(topic, [{ key: 'p1', value: JSON.stringify({ key: 'p1' }), partition: 0 }])
    await abort('abort')
    await transactions.transaction(topic, [message('c3')], 'commit')
    await transactionsSettled(services().bootstrapServers, topic)
    const kafka = source()
    await kafka.partitions(topic)

    // Act
    const [marks] = [...(await kafka.watermarks(topic, [0])).values()]
    const [fetched] = await kafka.fetch(topic, [{ partition: 0, fetchOffset: 0 }])

    // Assess: offsets 0 1 c1 c2, 2 commit, 3 a1, 4 p1, 5 abort, 6 c3, 7 commit
    expect(valuesOf(fetched!.records)).toEqual(['c1', 'c2', 'p1', 'c3'])
    expect(fetched!.records.map((record) => record.offset)).toEqual([0, 1, 4, 6])
    expect(fetched!.lastOffset).toBe(7)
    expect(marks!.endOffset).toBe(8)
  })

  it('ends at the last stable offset while a transaction is open, and reads on once it commits', async () => {
    const topic = await freshTopic(1)
    const transactions = producer()
    await produce(topic, [{ key: 'p0', value: JSON.stringify({ key: 'p0' }), partition: 0 }])
    const commit = await transactions.open(topic, [message('t1')])
    await produce(topic, [{ key: 'p2', value: JSON.stringify({ key: 'p2' }), partition: 0 }])
    const kafka = source()
    await kafka.partitions(topic)

    const whileOpen = (await kafka.watermarks(topic, [0])).get(0)
    const [fetchedWhileOpen] = await kafka.fetch(topic, [{ partition: 0, fetchOffset: 0 }])
    await commit('commit')
    await transactionsSettled(services().bootstrapServers, topic)
    const afterCommit = (await kafka.watermarks(topic, [0])).get(0)
    const [fetchedAfter] = await kafka.fetch(topic, [{ partition: 0, fetchOffset: 1 }])

    expect(whileOpen!.endOffset).toBe(1)
    expect(valuesOf(fetchedWhileOpen!.records)).toEqual(['p0'])
    expect(afterCommit!.endOffset).toBe(4)
    expect(valuesOf(fetchedAfter!.records)).toEqual(['t1', 'p2'])
    expect(fetchedAfter!.lastOffset).toBe(3)
  })
})

describe('PlatformaticKafkaSource: the topic and its offsets', () => {
  it("gives the topic's id, and another once the topic is deleted and created again", async () => {
    const topic = await freshTopic(2)
    const kafka = source()

    const before = await kafka.partitions(topic)
    await recreateTopic(topic, 3)
    const after = await kafka.partitions(topic)

    expect([...before]).toEqual([0, 1])
    expect(before.topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect([...after]).toEqual([0, 1, 2])
    expect(after.topicId).toMatch(/^[0-9a-f-]{36}$/)
    expect(after.topicId).not.toBe(before.topicId)
  })

  it('finds the first offset at or after a time, and the end when nothing is as recent', async () => {
    const topic = await freshTopic(1)
    await produce(topic, [message('early-0'), message('early-1')])
    await new Promise((wait) => setTimeout(wait, 50))
    const between = Date.now()
    await new Promise((wait) => setTimeout(wait, 50))
    await produce(topic, [message('late-0'), message('late-1'), message('late-2')])
    const kafka = source()

    const atTime = await kafka.offsetsAtTime(topic, [0], between)
    const future = await kafka.offsetsAtTime(topic, [0], Date.now() + 60_000)

    expect(atTime.get(0)).toBe(2)
    expect(future.get(0)).toBe(5)
    expect(atTime.unavailable.size).toBe(0)
  })
})
