import { describe, expect, it } from 'vitest'
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-offset-store.ts'
import { ConsumerIdCollisionError } from '../../../src/offsets/errors.ts'
import { fakeDynamoDbClient } from './fake-dynamodb-client.ts'

const key = { table: 'kafka-consumer-offsets', topic: 'b_c', groupId: 'a' }

const item = (partition: number, offset: number, topic: string, groupId: string) => ({
  consumer_id: { S: `${groupId}_${topic}` },
  partition: { N: String(partition) },
  offset: { N: String(offset) },
  topic: { S: topic },
  group_id: { S: groupId },
})

describe('DynamoDbOffsetStore conditions', () => {
  it('moves an offset only from the value read and only forward, both compared with the stored attribute', async () => {
    const { client, sent } = fakeDynamoDbClient(() => ({}))
    const store = new DynamoDbOffsetStore(client, key)

    await store.save([
      { partition: 0, offset: 15, expected: 10 },
      { partition: 1, offset: 3, expected: undefined },
    ])

    const [update, create] = sent.map((command) => command.input)
    expect(update).toMatchObject({
      ConditionExpression: '#o = :expected AND #o < :new',
      ExpressionAttributeNames: { '#o': 'offset' },
      ExpressionAttributeValues: { ':expected': { N: '10' }, ':new': { N: '15' } },
    })
    expect(create).toMatchObject({ ConditionExpression: 'attribute_not_exists(#o)' })
    expect(create).not.toHaveProperty('ExpressionAttributeValues')
  })
})

describe('DynamoDbOffsetStore saves', () => {
  it('reports each write on its own: one that fails does not hide that another was saved', async () => {
    const { client } = fakeDynamoDbClient((command) => {
      const item = command.input.Item as { partition: { N: string } }
      if (item.partition.N === '1')
        throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' })
      return {}
    })
    const store = new DynamoDbOffsetStore(client, key)

    const results = await store.save([
      { partition: 0, offset: 15, expected: 10 },
      { partition: 1, offset: 8, expected: 5 },
    ])

    expect(results[0]).toEqual({ partition: 0, status: 'saved' })
    expect(results[1]).toMatchObject({ partition: 1, status: 'failed' })
    const error = (results[1] as { error: Error & { retriable: boolean } }).error
    expect(error.message).toContain('Could not save the offset of partition 1')
    expect(error.retriable).toBe(true)
  })
})

describe('DynamoDbOffsetStore consumer_id collisions', () => {
  it("refuses to read offsets that another consumer's topic and group wrote under the same consumer_id", async () => {
    // group "a_b" with topic "c", and group "a" with topic "b_c": both are consumer_id "a_b_c".
    const { client } = fakeDynamoDbClient(() => ({
      Items: [item(0, 40, 'c', 'a_b'), item(1, 7, 'b_c', 'a'), item(2, 9, 'c', 'a_b')],
    }))
    const store = new DynamoDbOffsetStore(client, key)

    const error = await store.read().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ConsumerIdCollisionError)
    expect((error as ConsumerIdCollisionError).foreign).toEqual([
      { partition: 0, topic: 'c', groupId: 'a_b' },
      { partition: 2, topic: 'c', groupId: 'a_b' },
    ])
    const message = (error as Error).message
    expect(message).toContain('consumer_id "a_b_c"')
    expect(message).toContain('partition(s) 0, 2 were written for topic "c", group_id "a_b"')
    expect(message).toContain('this consumer is topic "b_c", group_id "a"')
    expect(message).toContain('Give one of them another KAFKA_GROUP_ID')
    expect((error as ConsumerIdCollisionError).retriable).toBe(false)
  })

  it('reads its own items, and items without topic and group_id, as they are', async () => {
    const { client } = fakeDynamoDbClient(() => ({
      Items: [
        item(0, 40, 'b_c', 'a'),
        { consumer_id: { S: 'a_b_c' }, partition: { N: '1' }, offset: { N: '3' } },
      ],
    }))
    const store = new DynamoDbOffsetStore(client, key)

    expect(await store.read()).toEqual(
      new Map([
        [0, { offset: 40 }],
        [1, { offset: 3 }],
      ]),
    )
  })
})
