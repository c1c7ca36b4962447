/**
 * One invocation, as the seed's data flow draws it, inside a run lease:
 *   take the lease -> read the stored offsets -> fetch from offset + 1 -> decode and process
 *   each message (dead-lettering the ones that cannot be) -> save the new offsets -> release.
 * Pure logic: Kafka, DynamoDB, the dead-letter destination and the logs are reached through
 * the interfaces in `src/ports.ts`.
 *
 * Guarantees kept here:
 * - one run at a time per `consumer_id`: a run that finds the lease held returns at once;
 * - a partition never skips a message: each one is processed or dead-lettered before its
 *   offset counts as done; one that can be neither stops its partition just before it;
 * - offsets only move forward, only for partitions that moved, and only from the value this
 *   run read (a conditional write), even if the lease was lost;
 * - offsets are checkpointed every N messages or T ms, so a run killed outright repeats at
 *   most one checkpoint's worth;
 * - the run stops at `maxMessages`, at the end of every partition (the last stable offset), or
 *   at the deadline, whichever comes first, and saves what it did even when Kafka fails.
 */
import { randomUUID } from 'node:crypto'
import { messageOf } from '../errors.ts'
import type { FetchedPartition, Metrics } from '../ports.ts'
import { Checkpoints, isRetriable } from './checkpoints.ts'
import { DEFAULT_PROCESSING_POLICY, deliverRecords, type Outcome } from './deliver-records.ts'
import { LeaseKeeper } from './lease-keeper.ts'
import {
  initialState,
  type PartitionState,
  type PartitionStateContext,
  resolveOutOfRange,
} from './partition-state.ts'
import { ReadAhead, roundShare } from './read-ahead.ts'
import { ownedPartitions } from './shards.ts'
import type { CycleDependencies, CycleOptions, CycleSummary, StopReason } from './types.ts'

export type {
  CheckpointPolicy,
  CycleDependencies,
  CycleOptions,
  CycleProgress,
  CycleSummary,
  OutOfRangePolicy,
  PartitionFailure,
  PartitionSummary,
  ProcessingPolicy,
  StartPosition,
  StopReason,
} from './types.ts'

const DEFAULT_LEASE_DURATION_MS = 60_000
/** Rounds in a row without progress before the run gives up waiting on the broker. */
const MAX_IDLE_ROUNDS = 3
/** Waits before fetching again after a retriable Kafka failure (a broker restarting, a leader moving). */
const KAFKA_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000]

export async function runCycle(deps: CycleDependencies, options: CycleOptions): Promise<CycleSummary> {
  const run = new CycleRun(deps, options)
  // The topic first: when it does not exist, the run fails before writing anything, lease included.
  const topicPartitions = await deps.source.partitions(options.topic)
  const partitions = ownedPartitions(topicPartitions, options.shard)
  if (partitions.length === 0) {
    deps.logger.warn("This shard owns none of the topic's partitions; nothing to consume", {
      topic: options.topic,
      partitions: topicPartitions.length,
      shardCount: options.shard?.count,
      shardIndex: options.shard?.index,
      fix: 'use at most as many shards as the topic has partitions',
    })
    return run.summary()
  }
  // Reads first: with nothing new (most runs of a scheduled consumer), the run ends here,
  // having written nothing, lease included.
  const readAt = (deps.clock ?? Date.now)()
  await run.readOffsets(partitions)
  if (!run.hasWork()) return run.summary()
  const lease = await run.takeLease()
  if (lease === 'held') return run.summary()
  try {
    // A run that ended after the read above may have saved offsets since: read them again.
    if (lease?.previousWriteAt !== undefined && lease.previousWriteAt >= readAt)
      await run.readOffsets(partitions)
    await run.consume()
    await run.saveOffsets()
    return run.summary()
  } finally {
    await lease?.release()
  }
}

class CycleRun {
  readonly #deps: CycleDependencies
  readonly #options: CycleOptions
  readonly #clock: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #metrics: Metrics
  readonly #startedAt: number
  readonly #stateContext: PartitionStateContext
  readonly #checkpoints: Checkpoints
  #states: PartitionState[] = []
  #keeper: LeaseKeeper | undefined
  #leaseHeld: { holder: string; expiresAt: string } | undefined
  #count = 0
  #deadLettered = 0
  #stopReason: StopReason = 'caught-up'
  #error: unknown
  /** A retry did not fit before the deadline. */
  #outOfTime = false
  /** The next fetch round, on its way while this one is processed (see read-ahead.ts). */
  #readAhead: ReadAhead | undefined

  constructor(deps: CycleDependencies, options: CycleOptions) {
    this.#deps = deps
    this.#options = options
    this.#clock = deps.clock ?? Date.now
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.#metrics = deps.metrics ?? { count: () => {}, measure: () => {} }
    this.#startedAt = this.#clock()
    this.#stateContext = {
      topic: options.topic,
      startPosition: options.startPosition,
      outOfRangePolicy: options.offsetOutOfRange ?? 'earliest',
      logger: deps.logger,
      metrics: this.#metrics,
    }
    this.#checkpoints = new Checkpoints(
      { offsets: deps.offsets, logger: deps.logger, clock: this.#clock, sleep: this.#sleep },
      options.topic,
      options.checkpoint,
    )
  }

  /** 0. The lease: the keeper holding it, `held` when another run has it, undefined without a lease. */
  async takeLease(): Promise<LeaseKeeper | 'held' | undefined> {
    const { lease } = this.#deps
    if (lease === undefined) return undefined
    const keeper = new LeaseKeeper(
      lease,
      {
        owner: this.#options.lease?.owner ?? randomUUID(),
        durationMs: this.#options.lease?.durationMs ?? DEFAULT_LEASE_DURATION_MS,
        consumerId: this.#options.consumerId,
      },
      this.#clock,
      this.#deps.logger,
    )
    const result = await keeper.acquire()
    if (!result.acquired) {
      this.#leaseHeld = { holder: result.holder, expiresAt: new Date(result.expiresAt).toISOString() }
      this.#stopReason = 'lease-held'
      this.#metrics.count('LeaseHeld', 1)
      // Debug: the summary the entry point logs says the same, holder and expiry included.
      this.#deps.logger.debug('Another run holds the lease; not consuming this time', {
        consumerId: this.#options.consumerId,
        holder: result.holder,
        expiresAt: this.#leaseHeld.expiresAt,
      })
      return 'held'
    }
    this.#keeper = keeper
    return keeper
  }

  /** 1. The stored offsets, and where each partition starts. */
  async readOffsets(partitions: readonly number[]): Promise<void> {
    const { source, offsets } = this.#deps
    const [stored, watermarks] = await Promise.all([
      offsets.read(),
      source.watermarks(this.#options.topic, partitions),
    ])
    // With offsets already stored, a partition without one was added to the topic since (see decideStart).
    const firstRun = stored.size === 0
    this.#states = partitions.map((partition) =>
      initialState(
        partition,
        stored.get(partition)?.offset,
        watermarks.get(partition),
        firstRun,
        this.#stateContext,
      ),
    )
    this.#checkpoints.track(this.#states)
  }

  #reportProgress(): void {
    const { progress } = this.#deps
    if (progress === undefined) return
    let lag = 0
    for (const state of this.#states) if (!state.halted) lag += Math.max(0, state.endOffset - state.position)
    const done = this.#done()
    progress({ done, remaining: Math.min(lag, Math.max(0, this.#options.maxMessages - done)) })
  }

  /** Something to consume or to save: a partition behind its end, or a start to remember. */
  hasWork(): boolean {
    return this.#states.some((state) => (!state.halted && state.position < state.endOffset) || state.mustSave)
  }

  /** 2 and 3. Fetch rounds across every partition, each partition's messages delivered in order. */
  async consume(): Promise<void> {
    const { logger } = this.#deps
    const { topic, maxMessages } = this.#options
    let idleRounds = 0
    let round = 0
    let kafkaFailures = 0
    try {
      for (;;) {
        const active = this.#states.filter((state) => !state.halted && state.position < state.endOffset)
        if (active.length === 0) break
        if (this.#done() >= maxMessages) {
          this.#stopReason = 'max-messages'
          break
        }
        const cause = this.#stopCause()
        if (cause !== undefined) {
          this.#stopReason = cause
          break
        }
        // Rotate the request order so no partition is always last in a size-limited response.
        const shift = round++ % active.length
        const ordered = [...active.slice(shift), ...active.slice(0, shift)]
        let fetched: FetchedPartition[] | 'deadline'
        try {
          fetched = await this.#fetchBeforeDeadline(ordered)
          kafkaFailures = 0
        } catch (error) {
          const delayMs = KAFKA_RETRY_DELAYS_MS[kafkaFailures++]
          if (
            !isRetriable(error) ||
            delayMs === undefined ||
            this.#clock() + delayMs >= this.#options.deadline
          ) {
            throw error
          }
          logger.warn('Kafka failed; saving progress, then fetching again', {
            topic,
            attempt: kafkaFailures,
            retryInMs: delayMs,
            error: messageOf(error),
          })
          await this.#checkpoints.now()
          await this.#sleep(delayMs)
          continue
        }
        if (fetched === 'deadline') {
          this.#stopReason = 'deadline'
          break
        }
        const byPartition = new Map(fetched.map((response) => [response.partition, response]))
        const share = roundShare(
          maxMessages - this.#done(),
          ordered.map((state) => ({ partition: state.partition, fetchOffset: state.position })),
          fetched,
        )
        let progressed = false
        for (const state of ordered) {
          const response = byPartition.get(state.partition)
          if (response === undefined) continue
          const before = state.position
          await this.#consumePartition(state, response, Math.min(share, maxMessages - this.#done()))
          if (state.position !== before || state.halted) progressed = true
          if (this.#stopCause() !== undefined) break
        }
        this.#reportProgress()
        idleRounds = progressed ? 0 : idleRounds + 1
        if (idleRounds >= MAX_IDLE_ROUNDS) {
          logger.warn('Fetches returned nothing although the broker reports more messages; ending the run', {
            topic,
            partitions: active.map((state) => ({
              partition: state.partition,
              position: state.position,
              endOffset: state.endOffset,
            })),
          })
          break
        }
      }
    } catch (error) {
      // Kafka failed mid-run (a broker went away for good): keep what was done, then report.
      this.#error = error
      this.#stopReason = 'kafka-error'
      logger.error('Kafka failed during the run; saving the offsets done so far', {
        topic,
        error: messageOf(error),
      })
    }
  }

  /** 4. The final save, with retries; a failure is reported in the summary, not thrown. */
  async saveOffsets(): Promise<void> {
    await this.#settleReadAhead()
    try {
      await this.#checkpoints.save()
    } catch (error) {
      if (this.#error !== undefined) {
        this.#deps.logger.error('The run had also failed before the save', { error: messageOf(this.#error) })
      }
      this.#error = error
      this.#deps.logger.error(
        'Could not save the offsets; the messages done since the last save will be processed again next run',
        { topic: this.#options.topic, error: messageOf(error) },
      )
    }
    this.#metrics.count('MessagesProcessed', this.#count)
    if (this.#deadLettered > 0) this.#metrics.count('MessagesDeadLettered', this.#deadLettered)
  }

  summary(): CycleSummary {
    const checkpoints = this.#checkpoints
    return {
      consumerId: this.#options.consumerId,
      topic: this.#options.topic,
      partitions: this.#states.map((state) => ({
        partition: state.partition,
        fromOffset: state.fromOffset,
        toOffset: state.stored ?? null,
        count: state.count,
        deadLettered: state.deadLettered,
        lag: Math.max(0, state.endOffset - state.position),
        ...(state.failure && { failure: { offset: state.failure.offset, reason: state.failure.reason } }),
      })),
      count: this.#count,
      deadLettered: this.#deadLettered,
      stopReason: this.#stopReason,
      // In partition order: each partition stops at its first failure, so it has one at most.
      failures: this.#states.flatMap((state) => (state.failure === undefined ? [] : [state.failure])),
      conflicts: checkpoints.conflicts,
      offsetsWritten: checkpoints.written,
      checkpoints: checkpoints.count,
      durationMs: this.#clock() - this.#startedAt,
      ...(this.#leaseHeld && { lease: this.#leaseHeld }),
      ...(this.#error !== undefined && { error: this.#error }),
    }
  }

  #done(): number {
    return this.#count + this.#deadLettered
  }

  /** Why the run must stop taking messages now, if it must. */
  #stopCause(): StopReason | undefined {
    if (this.#checkpoints.failure !== undefined) return 'offset-store-error'
    // Asked before every message: one clock read serves both the lease and the deadline.
    const now = this.#clock()
    if (this.#keeper !== undefined && this.#keeper.lostAt(now) !== undefined) return 'lease-lost'
    if (this.#outOfTime || now >= this.#options.deadline) return 'deadline'
    if (this.#options.shouldStop?.() === true) return 'stopped'
    return undefined
  }

  /** A fetch still unanswered at the deadline is abandoned: the time left is for saving. */
  async #fetchBeforeDeadline(ordered: readonly PartitionState[]): Promise<FetchedPartition[] | 'deadline'> {
    this.#readAhead ??= new ReadAhead(this.#deps.source, this.#options.topic, {
      shouldStop: () => this.#stopCause() !== undefined,
    })
    const pending = this.#readAhead.fetch(
      ordered.map((state) => ({ partition: state.partition, fetchOffset: state.position })),
      { messages: this.#options.maxMessages - this.#done() },
    )
    const remainingMs = this.#options.deadline - this.#clock()
    if (!Number.isFinite(remainingMs)) return pending
    // An abandoned fetch may still fail later; that must not become an unhandled rejection.
    pending.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), Math.max(0, remainingMs))
    })
    try {
      return await Promise.race([pending, deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Lets a fetch read ahead finish before saving, so none outlives the run (the next
   * invocation's fetch session would trip on it); never past the deadline, which is for saving.
   */
  async #settleReadAhead(): Promise<void> {
    const settling = this.#readAhead?.settle()
    if (settling === undefined) return
    const remainingMs = this.#options.deadline - this.#clock()
    if (!Number.isFinite(remainingMs)) return settling
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      settling,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, remainingMs))
      }),
    ])
    clearTimeout(timer)
  }

  async #consumePartition(state: PartitionState, response: FetchedPartition, budget: number): Promise<void> {
    const { topic, consumerId } = this.#options
    if (response.watermarks !== undefined) state.endOffset = response.watermarks.endOffset
    if (response.offsetOutOfRange) {
      resolveOutOfRange(state, response.watermarks, 'during the run', this.#stateContext)
      return
    }
    const records = response.records.length <= budget ? response.records : response.records.slice(0, budget)
    const result = await deliverRecords(records, {
      topic,
      consumerId,
      partition: state.partition,
      processor: this.#deps.processor,
      deadLetters: this.#deps.deadLetters,
      policy: this.#options.processing ?? DEFAULT_PROCESSING_POLICY,
      logger: this.#deps.logger,
      metrics: this.#metrics,
      clock: this.#clock,
      sleep: this.#sleep,
      deadline: this.#options.deadline,
      shouldStop: () => state.halted || this.#stopCause() !== undefined,
      onDone: (offset, outcome) => this.#onDone(state, offset, outcome),
    })
    if (result.outOfTime) this.#outOfTime = true
    if (result.failure !== undefined) {
      const failure = result.failure
      state.halted = true
      state.failure = failure
      this.#deps.logger.error('Message failed; its partition stops before it until it can be done with', {
        topic,
        partition: failure.partition,
        offset: failure.offset,
        reason: failure.reason,
      })
    }
    // Everything returned was done with: step over trailing control markers and aborted records too.
    const everything = result.complete && records.length === response.records.length
    if (everything && response.lastOffset + 1 > state.position) state.position = response.lastOffset + 1
  }

  #onDone(state: PartitionState, offset: number, outcome: Outcome): Promise<void> | undefined {
    state.position = offset + 1
    if (outcome === 'processed') {
      state.count++
      this.#count++
    } else {
      state.deadLettered++
      this.#deadLettered++
    }
    return this.#checkpoints.done()
  }
}
