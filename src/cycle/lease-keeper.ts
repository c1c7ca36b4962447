/**
 * Holds the run lease for one invocation: takes it, renews it in the background every third
 * of its duration while the run lasts, and releases it at the end. The run asks `lost` between
 * messages: once the lease is someone else's, or expired without a renewal, the run stops
 * taking messages and saves (its writes are still conditional on the offsets it read, so a run
 * that lost its lease cannot move an offset another run moved).
 *
 * Every wait here is bounded, whatever the lease behind it does: a renewal that does not
 * settle within `renewTimeoutMs` is given up (the lease holds until it expires; the next
 * renewal tries again), and the release is given up after `releaseTimeoutMs` (an unreleased
 * lease frees itself when it expires). So a DynamoDB that never answers cannot keep a run from
 * ending, even after its offsets are saved.
 */
import { messageOf } from '../errors.ts'
import type { LeaseAcquisition, Logger, RunLease } from '../ports.ts'

/**
 * The longest the release at the end of a run may take. The final save's retries stop in time
 * to leave it this long before the invocation's timeout (see CycleOptions.saveBy).
 */
export const LEASE_RELEASE_TIMEOUT_MS = 2000
/** The longest one renewal may take, at most: never longer than the time between renewals. */
const RENEW_TIMEOUT_MS = 2000

export interface LeaseKeeperOptions {
  readonly owner: string
  readonly durationMs: number
  /** For log lines. */
  readonly consumerId: string
  /** Default: LEASE_RELEASE_TIMEOUT_MS. */
  readonly releaseTimeoutMs?: number
  /** Default: 2 s, or the time between renewals (a third of `durationMs`) if shorter. */
  readonly renewTimeoutMs?: number
}

export class LeaseKeeper {
  readonly #lease: RunLease
  readonly #options: LeaseKeeperOptions
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #renewEveryMs: number
  #expiresAt = 0
  #lostReason: string | undefined
  #timer: NodeJS.Timeout | undefined
  #renewing: Promise<void> | undefined
  #released = false
  #previousWriteAt: number | undefined

  constructor(lease: RunLease, options: LeaseKeeperOptions, clock: () => number, logger: Logger) {
    this.#lease = lease
    this.#options = options
    this.#clock = clock
    this.#logger = logger
    this.#renewEveryMs = Math.max(100, Math.floor(options.durationMs / 3))
  }

  async acquire(): Promise<LeaseAcquisition> {
    const result = await this.#lease.acquire(this.#options.owner, this.#clock(), this.#options.durationMs)
    if (result.acquired) {
      this.#expiresAt = result.expiresAt
      this.#previousWriteAt = result.previousWriteAt
      this.#timer = setInterval(() => void this.renew(), this.#renewEveryMs)
      this.#timer.unref()
    }
    return result
  }

  /** When the lease was last written before this run took it (the previous run's end), if known. */
  get previousWriteAt(): number | undefined {
    return this.#previousWriteAt
  }

  /** Why the lease is no longer this run's, or undefined while it is. */
  get lost(): string | undefined {
    return this.lostAt(this.#clock())
  }

  /** `lost`, at a time the caller already read from the clock. */
  lostAt(now: number): string | undefined {
    if (this.#lostReason === undefined && this.#expiresAt > 0 && now >= this.#expiresAt) {
      this.#lostReason = 'it expired before it could be renewed'
    }
    return this.#lostReason
  }

  /** One renewal now (the background timer calls this too); never throws, and settles in bounded time. */
  async renew(): Promise<void> {
    if (this.#renewing !== undefined || this.#lostReason !== undefined || this.#released)
      return this.#renewing
    const timeoutMs = this.#options.renewTimeoutMs ?? Math.min(RENEW_TIMEOUT_MS, this.#renewEveryMs)
    this.#renewing = (async () => {
      const now = this.#clock()
      try {
        const renewed = await withinMs(
          timeoutMs,
          this.#lease.renew(this.#options.owner, now, this.#options.durationMs),
        )
        // A renewal that answered after the release began must not count: the run is over.
        if (this.#released) return
        if (renewed) {
          this.#expiresAt = now + this.#options.durationMs
        } else {
          this.#lostReason = 'another run took it after it expired'
        }
      } catch (error) {
        // Not fatal yet: the lease holds until it expires, and the next renewal may get through.
        this.#logger.warn('Could not renew the run lease; trying again', {
          consumerId: this.#options.consumerId,
          expiresAt: new Date(this.#expiresAt).toISOString(),
          error: messageOf(error),
        })
      }
    })().finally(() => {
      this.#renewing = undefined
    })
    return this.#renewing
  }

  /**
   * Stops renewing and frees the lease, in bounded time; a failure is logged, not thrown (the
   * lease expires anyway).
   */
  async release(): Promise<void> {
    clearInterval(this.#timer)
    this.#released = true
    if (this.#expiresAt === 0) return
    const timeoutMs = this.#options.releaseTimeoutMs ?? LEASE_RELEASE_TIMEOUT_MS
    const startedAt = performance.now()
    try {
      // A renewal in flight first, so that the release is written after it; both within the one bound.
      if (this.#renewing !== undefined) await withinMs(timeoutMs, this.#renewing)
      const leftMs = Math.max(0, timeoutMs - (performance.now() - startedAt))
      await withinMs(leftMs, this.#lease.release(this.#options.owner, this.#clock()), timeoutMs)
    } catch (error) {
      this.#logger.warn('Could not release the run lease; it frees itself when it expires', {
        consumerId: this.#options.consumerId,
        expiresAt: new Date(this.#expiresAt).toISOString(),
        error: messageOf(error),
      })
    }
  }
}

/** `pending`, or a rejection once `timeoutMs` has passed without it settling (`boundMs`: the bound to name). */
async function withinMs<T>(timeoutMs: number, pending: Promise<T>, boundMs = timeoutMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), timeoutMs)
  })
  // Given up on, it may still fail later: that must not become an unhandled rejection.
  pending.catch(() => {})
  try {
    return await Promise.race([pending, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
