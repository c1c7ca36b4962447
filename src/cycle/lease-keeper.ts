/**
 * Holds the run lease for one invocation: takes it, renews it in the background every third
 * of its duration while the run lasts, and releases it at the end. The run asks `lost` between
 * messages: once the lease is someone else's, or expired without a renewal, the run stops
 * taking messages and saves (its writes are still conditional on the offsets it read, so a run
 * that lost its lease cannot move an offset another run moved).
 */
import { messageOf } from '../errors.ts'
import type { LeaseAcquisition, Logger, RunLease } from '../ports.ts'

export interface LeaseKeeperOptions {
  readonly owner: string
  readonly durationMs: number
  /** For log lines. */
  readonly consumerId: string
}

export class LeaseKeeper {
  readonly #lease: RunLease
  readonly #options: LeaseKeeperOptions
  readonly #clock: () => number
  readonly #logger: Logger
  #expiresAt = 0
  #lostReason: string | undefined
  #timer: NodeJS.Timeout | undefined
  #renewing: Promise<void> | undefined
  #previousWriteAt: number | undefined

  constructor(lease: RunLease, options: LeaseKeeperOptions, clock: () => number, logger: Logger) {
    this.#lease = lease
    this.#options = options
    this.#clock = clock
    this.#logger = logger
  }

  async acquire(): Promise<LeaseAcquisition> {
    const result = await this.#lease.acquire(this.#options.owner, this.#clock(), this.#options.durationMs)
    if (result.acquired) {
      this.#expiresAt = result.expiresAt
      this.#previousWriteAt = result.previousWriteAt
      this.#timer = setInterval(
        () => void this.renew(),
        Math.max(100, Math.floor(this.#options.durationMs / 3)),
      )
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

  /** One renewal now (the background timer calls this too); never throws. */
  async renew(): Promise<void> {
    if (this.#renewing !== undefined || this.#lostReason !== undefined) return this.#renewing
    this.#renewing = (async () => {
      const now = this.#clock()
      try {
        if (await this.#lease.renew(this.#options.owner, now, this.#options.durationMs)) {
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

  /** Stops renewing and frees the lease; a failure is logged, not thrown (the lease expires anyway). */
  async release(): Promise<void> {
    clearInterval(this.#timer)
    await this.#renewing
    if (this.#expiresAt === 0) return
    try {
      await this.#lease.release(this.#options.owner, this.#clock())
    } catch (error) {
      this.#logger.warn('Could not release the run lease; it frees itself when it expires', {
        consumerId: this.#options.consumerId,
        expiresAt: new Date(this.#expiresAt).toISOString(),
        error: messageOf(error),
      })
    }
  }
}
