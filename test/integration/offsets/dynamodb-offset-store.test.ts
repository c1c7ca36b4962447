/** The offset store against the real DynamoDB API server (dynalite), with the seed's schema. */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-offset-store.ts'
import { ConsumerIdCollisionError, OffsetStoreError } from '../../../src/offsets/errors.ts'
import { dynamodb, putSeedItem, services, startRecord, storedItems } from '../../support/services.ts'

const TOPIC_ID = '5f1e6b2a-0c4d-4e8f-9a7b-3c2d1e0f9a8b'

const client = dynamodb()
afterAll(() => client.destroy())

function store(table = services().table) {
  const topic = `topic-${randomUUID().slice(0, 8)}`
  return { topic, store: new DynamoDbOffsetStore(client, { table, topic, groupId: 'lambda-consumer-group' }) }
}

describe('DynamoDbOffsetStore', () => {
  it("writes the seed's item format and reads every partition back in one query", async () => {
    const { topic, store: offsets } = store()

    const results = await offsets.save([
      { partition: 0, offset: 12345, expected: undefined },
      { partition: 1, offset: 7, expected: undefined },
    ])
    const read = await offsets.read()
    const items = await storedItems(`lambda-consumer-group_${topic}`)

    expect(results.map((result) => result.status)).toEqual(['saved', 'saved'])
    expect([...read].map(([partition, stored]) => [partition, stored.offset])).toEqual([
      [0, 12345],
      [1, 7],
    ])
    expect(items[0]).toMatchObject({
      consumer_id: `lambda-consumer-group_${topic}`,
      partition: 0,
      offset: 12345,
      topic,
      group_id: 'lambda-consumer-group',
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
  })

  it('reads an item of the Python design, which has no updated_at', async () => {
    const { topic, store: offsets } = store()
    await putSeedItem('lambda-consumer-group', topic, 0, 41)

    expect(await offsets.read()).toEqual(new Map([[0, { offset: 41 }]]))
  })

  it('moves an offset only from the value it expects, and never backwards', async () => {
    const { store: offsets } = store()
    await offsets.save([{ partition: 0, offset: 10, expected: undefined }])

    const stale = await offsets.save([{ partition: 0, offset: 20, expected: 5 }])
    const backwards = await offsets.save([{ partition: 0, offset: 8, expected: 10 }])
    const createOverExisting = await offsets.save([{ partition: 0, offset: 30, expected: undefined }])
    const forward = await offsets.save([{ partition: 0, offset: 11, expected: 10 }])

    expect(stale).toEqual([{ partition: 0, status: 'conflict', current: 10 }])
    expect(backwards).toEqual([expect.objectContaining({ partition: 0, status: 'conflict' })])
    expect(createOverExisting).toEqual([expect.objectContaining({ status: 'conflict' })])
    expect(forward).toEqual([{ partition: 0, status: 'saved' }])
    expect((await offsets.read()).get(0)?.offset).toBe(11)
  })

  it('refuses, naming both consumers and the fix, when another group and topic share its consumer_id', async () => {
    // group "g_<id>" with topic "x", and group "g" with topic "<id>_x": both are consumer_id "g_<id>_x".
    const id = randomUUID().slice(0, 8)
    const first = new DynamoDbOffsetStore(client, { table: services().table, topic: 'x', groupId: `g_${id}` })
    const second = new DynamoDbOffsetStore(client, {
      table: services().table,
      topic: `${id}_x`,
      groupId: 'g',
    })
    await first.save([{ partition: 0, offset: 99, expected: undefined }])

    const refused = await second.read().catch((error: unknown) => error)

    expect(second.consumerId).toBe(first.consumerId)
    expect(refused).toBeInstanceOf(ConsumerIdCollisionError)
    expect((refused as Error).message).toContain(`written for topic "x", group_id "g_${id}"`)
    expect((refused as Error).message).toContain(`this consumer is topic "${id}_x", group_id "g"`)
    expect([...(await first.read())]).toEqual([[0, expect.objectContaining({ offset: 99 })]])
  })

  it('ignores items under negative partitions (reserved for the run lease)', async () => {
    const { topic, store: offsets } = store()
    await putSeedItem('lambda-consumer-group', topic, -1, 0)
    await putSeedItem('lambda-consumer-group', topic, 2, 5)

    expect([...(await offsets.read()).keys()]).toEqual([2])
  })

  it("stamps the topic's id on each offset it saves, and reads it back", async () => {
    const { topic, store: offsets } = store()
    await putSeedItem('lambda-consumer-group', topic, 0, 41)

    await offsets.save([{ partition: 0, offset: 50, expected: 41, topicId: TOPIC_ID }])

    expect((await offsets.read()).get(0)).toMatchObject({ offset: 50, topicId: TOPIC_ID })
    expect((await storedItems(`lambda-consumer-group_${topic}`))[0]).toMatchObject({ topic_id: TOPIC_ID })
  })

  it("records the consumer's start once, at a sort key no partition has, and reads it beside the offsets", async () => {
    const { topic, store: offsets } = store()

    await offsets.recordStart({ partitionCount: 6, startedAt: '2026-12-01T10:00:00.000Z' })
    await offsets.recordStart({ partitionCount: 9 })
    await offsets.save([{ partition: 1, offset: 3, expected: undefined }])
    const read = await offsets.read()

    expect(read.start).toEqual({ partitionCount: 6, startedAt: '2026-12-01T10:00:00.000Z' })
    expect([...read.keys()]).toEqual([1])
    expect(await startRecord(`lambda-consumer-group_${topic}`)).toMatchObject({
      partition: '2147483648',
      partition_count: '6',
      topic,
      group_id: 'lambda-consumer-group',
    })
  })

  it('records a mismatch in the item, offset kept, and a reset clears it and stamps the new id', async () => {
    const { topic, store: offsets } = store()
    await offsets.save([{ partition: 0, offset: 49, expected: undefined, topicId: TOPIC_ID }])
    const stored = (await offsets.read()).get(0)!
    const mismatch = {
      reason: 'topic-id' as const,
      foundAt: '2026-12-01T10:00:00.000Z',
      logEndOffset: 10,
      topicId: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
    }

    const marked = await offsets.recordMismatch(0, stored, mismatch)
    const stale = await offsets.recordMismatch(0, { ...stored, offset: 30 }, mismatch)
    const afterMark = (await offsets.read()).get(0)
    await offsets.overwrite(0, -1, 49, mismatch.topicId)
    const afterReset = (await offsets.read()).get(0)

    expect(marked).toEqual({ partition: 0, status: 'saved' })
    expect(stale).toEqual({ partition: 0, status: 'conflict', current: 49 })
    expect(afterMark).toEqual({ offset: 49, updatedAt: stored.updatedAt, topicId: TOPIC_ID, mismatch })
    expect(afterReset).toMatchObject({ offset: -1, topicId: mismatch.topicId })
    expect(afterReset?.mismatch).toBeUndefined()
    expect((await storedItems(`lambda-consumer-group_${topic}`))[0]?.offset_mismatch).toBeUndefined()
  })

  it('names the table and the fix when the table does not exist', async () => {
    const { store: offsets } = store('no-such-offsets-table')

    const error = await offsets.read().catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(OffsetStoreError)
    expect((error as Error).message).toContain('"no-such-offsets-table" does not exist')
    expect((error as Error).message).toContain('DYNAMODB_TABLE')
  })
})
