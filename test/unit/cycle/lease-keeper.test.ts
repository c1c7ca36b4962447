import { describe, expect, it } from 'vitest'
import { LeaseKeeper } from '../../../src/cycle/lease-keeper.ts'
import { InMemoryRunLease, RecordingLogger } from '../../support/fakes.ts'

function keeper(
  lease: InMemoryRunLease,
  clock: () => number,
  durationMs = 60_000,
  bounds: { renewTimeoutMs?: number; releaseTimeoutMs?: number } = {},
) {
  const logger = new RecordingLogger()
  return {
    logger,
    keeper: new LeaseKeeper(
      lease,
      { owner: 'me', durationMs, consumerId: 'group_orders', ...bounds },
      clock,
      logger,
    ),
  }
}

/** A DynamoDB that accepts the request and never answers. */
const never = () => new Promise<never>(() => {})

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

  it('gives up a renewal that never answers, keeps the lease until it expires, and still releases it', async () => {
    let now = 0
    const lease = new InMemoryRunLease()
    const { keeper: held, logger } = keeper(lease, () => now, 3000, { renewTimeoutMs: 20 })
    await held.acquire()
    const renew = lease.renew.bind(lease)
    lease.renew = never

    now = 1000
    await held.renew()
    const lostWhileValid = held.lost
    lease.renew = renew
    now = 2000
    await held.renew()

    expect(logger.at('warn')[0]).toMatchObject({
      message: 'Could not renew the run lease; trying again',
      attributes: { error: 'no answer within 20 ms' },
    })
    expect(lostWhileValid).toBeUndefined()
    expect(lease.holder).toEqual({ owner: 'me', expiresAt: 5000 })
    await held.release()
    expect(lease.calls.at(-1)).toBe('release me')
  })

  it('ends the release in bounded time when DynamoDB never answers it', async () => {
    const lease = new InMemoryRunLease()
    const { keeper: held, logger } = keeper(lease, () => 0, 60_000, { releaseTimeoutMs: 20 })
    await held.acquire()
    lease.release = never

    await held.release()

    expect(logger.at('warn')[0]).toMatchObject({
      message: 'Could not release the run lease; it frees itself when it expires',
      attributes: { error: 'no answer within 20 ms' },
    })
  })

  it('does not wait for ever on a renewal still unanswered when the run ends', async () => {
    const lease = new InMemoryRunLease()
    const { keeper: held, logger } = keeper(lease, () => 0, 60_000, {
      renewTimeoutMs: 60_000,
      releaseTimeoutMs: 20,
    })
    await held.acquire()
    lease.renew = never
    void held.renew()

    await held.release()

    expect(logger.at('warn').map((entry) => entry.message)).toEqual([
      'Could not release the run lease; it frees itself when it expires',
    ])
    // Not released at all: a release written before the hung renewal could be undone by it.
    expect(lease.calls).toEqual(['acquire me'])
  })

  it('ignores a renewal that answers after the release began', async () => {
    let answer: (renewed: boolean) => void = () => {}
    const lease = new InMemoryRunLease()
    const { keeper: held } = keeper(lease, () => 0, 60_000, { renewTimeoutMs: 1000, releaseTimeoutMs: 1000 })
    await held.acquire()
    lease.renew = () => new Promise<boolean>((resolve) => (answer = resolve))
    const renewing = held.renew()

    const releasing = held.release()
    answer(false)
    await Promise.all([renewing, releasing])

    expect(held.lost).toBeUndefined()
    expect(lease.calls).toEqual(['acquire me', 'release me'])
  })
})
