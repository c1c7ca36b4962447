import { describe, expect, it } from 'vitest'
import { LeaseKeeper } from '../../../src/cycle/lease-keeper.ts'
import { InMemoryRunLease, RecordingLogger } from '../../support/fakes.ts'

function keeper(lease: InMemoryRunLease, clock: () => number, durationMs = 60_000) {
  const logger = new RecordingLogger()
  return {
    logger,
    keeper: new LeaseKeeper(lease, { owner: 'me', durationMs, consumerId: 'group_orders' }, clock, logger),
  }
}

describe('LeaseKeeper', () => {
  it('extends the lease on each renewal', async () => {
    let now = 1000
    const lease = new InMemoryRunLease()
    const { keeper: held } = keeper(lease, () => now, 3000)

    await held.acquire()
    now = 3500
    await held.renew()
    now = 5000

    expect(lease.holder).toEqual({ owner: 'me', expiresAt: 6500 })
    expect(held.lost).toBeUndefined()
    await held.release()
  })

  it('reports the lease lost when another run took it over', async () => {
    const lease = new InMemoryRunLease()
    const { keeper: held } = keeper(lease, () => 0)
    await held.acquire()
    lease.holder = { owner: 'other', expiresAt: 120_000 }

    await held.renew()

    expect(held.lost).toBe('another run took it after it expired')
    await held.release()
    expect(lease.holder).toEqual({ owner: 'other', expiresAt: 120_000 })
  })

  it('keeps the lease through a failed renewal, and reports it lost once it has expired', async () => {
    let now = 0
    const lease = new InMemoryRunLease()
    const { keeper: held, logger } = keeper(lease, () => now, 1000)
    await held.acquire()
    lease.failRenew = new Error('throttled')

    now = 400
    await held.renew()
    const lostBeforeExpiry = held.lost
    now = 1000

    expect(lostBeforeExpiry).toBeUndefined()
    expect(logger.at('warn')[0]?.message).toContain('Could not renew')
    expect(held.lost).toBe('it expired before it could be renewed')
    await held.release()
  })

  it('logs, and does not throw, when the release fails', async () => {
    const lease = new InMemoryRunLease()
    const { keeper: held, logger } = keeper(lease, () => 0)
    await held.acquire()
    lease.release = async () => {
      throw new Error('DynamoDB unreachable')
    }

    await held.release()

    expect(logger.at('warn')[0]).toMatchObject({ attributes: { error: 'DynamoDB unreachable' } })
  })
})
