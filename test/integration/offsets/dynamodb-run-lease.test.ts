/** The run lease against the real DynamoDB API server (dynalite): single-item conditional writes only. */
import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-offset-store.ts'
import { DynamoDbRunLease } from '../../../src/offsets/dynamodb-run-lease.ts'
import { OffsetStoreError } from '../../../src/offsets/errors.ts'
import { dynamodb, leaseItem, services } from '../../support/services.ts'

const client = dynamodb()
afterAll(() => client.destroy())

function lease(table = services().table) {
  const topic = `topic-${randomUUID().slice(0, 8)}`
  const key = { table, topic, groupId: 'lambda-consumer-group' }
  return { consumerId: `lambda-consumer-group_${topic}`, key, lease: new DynamoDbRunLease(client, key) }
}

describe('DynamoDbRunLease', () => {
  it('is taken by one run at a time; the other learns who holds it until when', async () => {
    // Prepare
    const { consumerId, lease: runLease } = lease()

    // Act
    const first = await runLease.acquire('run-a', 1_000_000, 60_000)
    const second = await runLease.acquire('run-b', 1_000_500, 60_000)
    const item = await leaseItem(consumerId)

    // Assess
    expect(first).toEqual({ acquired: true, expiresAt: 1_060_000 })
    expect(second).toEqual({ acquired: false, holder: 'run-a', expiresAt: 1_060_000 })
    expect(item).toEqual({
      consumer_id: consumerId,
      partition: '-1',
      topic: consumerId.slice('lambda-consumer-group_'.length),
      group_id: 'lambda-consumer-group',
      lease_owner: 'run-a',
      lease_expires_at: '1060000',
      lease_expires: new Date(1_060_000).toISOString(),
      lease_acquired_at: new Date(1_000_000).toISOString(),
      updated_at: new Date(1_000_000).toISOString(),
    })
  })

  it('lets exactly one of five simultaneous runs take it', async () => {
    const { lease: runLease } = lease()

    const results = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((owner) => runLease.acquire(owner, 1_000_000, 60_000)),
    )

    expect(results.filter((result) => result.acquired)).toHaveLength(1)
  })

  it('is renewed only by its holder, and is free for another once released', async () => {
    const { lease: runLease } = lease()
    await runLease.acquire('run-a', 1_000_000, 60_000)

    const renewedByHolder = await runLease.renew('run-a', 1_030_000, 60_000)
    const renewedByOther = await runLease.renew('run-b', 1_030_000, 60_000)
    const beforeRelease = await runLease.acquire('run-b', 1_080_000, 60_000)
    await runLease.release('run-a', 1_080_000)
    const afterRelease = await runLease.acquire('run-b', 1_080_001, 60_000)

    expect([renewedByHolder, renewedByOther]).toEqual([true, false])
    expect(beforeRelease).toEqual({ acquired: false, holder: 'run-a', expiresAt: 1_090_000 })
    // The taker learns when the previous run last wrote the lease (its release): a run that read
    // the offsets before then reads them again.
    expect(afterRelease).toEqual({ acquired: true, expiresAt: 1_140_001, previousWriteAt: 1_080_000 })
  })

  it('is taken over once expired (its run was killed); the old holder then cannot renew or release it', async () => {
    const { consumerId, lease: runLease } = lease()
    await runLease.acquire('killed', 1_000_000, 10_000)

    const takeover = await runLease.acquire('next', 1_010_000, 10_000)
    const renewedByKilled = await runLease.renew('killed', 1_010_001, 10_000)
    await runLease.release('killed', 1_010_002)

    expect(takeover.acquired).toBe(true)
    expect(renewedByKilled).toBe(false)
    expect((await leaseItem(consumerId))?.lease_owner).toBe('next')
  })

  it('is not an offset: the offset store never reads it', async () => {
    const { key, lease: runLease } = lease()
    const offsets = new DynamoDbOffsetStore(client, key)
    await offsets.save([{ partition: 0, offset: 3, expected: undefined }])

    await runLease.acquire('run-a', Date.now(), 60_000)
    const read = await offsets.read()

    expect([...read.keys()]).toEqual([0])
  })

  it('fails with a clear error when the table does not exist', async () => {
    const { lease: runLease } = lease('no-such-table')

    const error = await runLease.acquire('run-a', Date.now(), 60_000).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(OffsetStoreError)
    expect((error as Error).message).toContain('take the run lease')
    expect((error as Error).message).toContain('"no-such-table" does not exist')
  })
})
