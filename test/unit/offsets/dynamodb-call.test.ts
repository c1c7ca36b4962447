import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { describe, expect, it } from 'vitest'
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-offset-store.ts'
import { DynamoDbRunLease } from '../../../src/offsets/dynamodb-run-lease.ts'
import { OffsetStoreError } from '../../../src/offsets/errors.ts'
import { fakeDynamoDbClient } from './fake-dynamodb-client.ts'

const key = { table: 'kafka-consumer-offsets', topic: 'orders', groupId: 'group' }
const timeouts = { attemptTimeoutMs: 30 }

describe('DynamoDB calls of the offsets table, against a DynamoDB that never answers', () => {
  it('cut each attempt of the read, try it three times, then fail with an error that says so', async () => {
    const { client, sent } = fakeDynamoDbClient(() => 'hang')
    const store = new DynamoDbOffsetStore(client, key, timeouts)

    const error = await store.read().catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(OffsetStoreError)
    expect((error as OffsetStoreError).message).toBe(
      'Could not read the stored offsets in DynamoDB table "kafka-consumer-offsets": no answer within 30 ms. ' +
        'Nothing was lost: the next run starts again from the stored offsets.',
    )
    expect((error as OffsetStoreError).retriable).toBe(true)
    expect(sent.map((command) => command.name)).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand'])
    expect(sent.every((command) => command.signal?.aborted === true)).toBe(true)
  })

  it('make one attempt per save, cut at the time the caller gives, and none once that time has passed', async () => {
    const { client, sent } = fakeDynamoDbClient(() => 'hang')
    const store = new DynamoDbOffsetStore(client, key, { attemptTimeoutMs: 60_000 })
    const write = { partition: 0, offset: 5, expected: 4 }

    const errorOf = async (endBy: number) => {
      const [result] = await store.save([write], endBy)
      return result?.status === 'failed' ? result.error : result
    }
    const cut = await errorOf(Date.now() + 30)
    const late = await errorOf(Date.now() - 1)

    expect((cut as Error).message).toMatch(/save the offset of partition 0 .*: no answer within \d+ ms/)
    expect((late as OffsetStoreError).message).toContain(
      "the invocation's time for it was up before attempt 1 could start",
    )
    expect((late as OffsetStoreError).retriable).toBe(false)
    expect(sent).toHaveLength(1)
  })

  it('retry a read that timed out, and succeed when DynamoDB answers again', async () => {
    let calls = 0
    const { client } = fakeDynamoDbClient(() => (++calls === 1 ? 'hang' : { Items: [] }))
    const store = new DynamoDbOffsetStore(client, key, timeouts)

    expect(await store.read()).toEqual(new Map())
    expect(calls).toBe(2)
  })

  it('pass a failed condition through at once, without retrying it', async () => {
    const conflict = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    })
    const { client, sent } = fakeDynamoDbClient((command) => {
      if (command.name === 'PutItemCommand') throw conflict
      return { Item: { offset: { N: '9' } } }
    })
    const store = new DynamoDbOffsetStore(client, key, timeouts)

    expect(await store.save([{ partition: 0, offset: 5, expected: 4 }])).toEqual([
      { partition: 0, status: 'conflict', current: 9 },
    ])
    expect(sent.map((command) => command.name)).toEqual(['PutItemCommand', 'GetItemCommand'])
  })

  it('try taking the lease three times, renewing and releasing it once', async () => {
    const { client, sent } = fakeDynamoDbClient(() => 'hang')
    const lease = new DynamoDbRunLease(client, key, 0, timeouts)

    const acquire = await lease.acquire('me', 0, 60_000).catch((caught: unknown) => caught)
    const renew = await lease.renew('me', 0, 60_000).catch((caught: unknown) => caught)
    const release = await lease.release('me', 0).catch((caught: unknown) => caught)

    expect([acquire, renew, release].map((error) => (error as Error).message)).toEqual([
      expect.stringContaining('Could not take the run lease'),
      expect.stringContaining('Could not renew the run lease'),
      expect.stringContaining('Could not release the run lease'),
    ])
    expect(sent).toHaveLength(5)
  })
})
