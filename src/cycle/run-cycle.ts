/**
 * One invocation, as the seed's data flow draws it, inside a run lease:
 *   take the lease -> read the stored offsets -> fetch from offset + 1 -> decode and process
 *   each message (dead-lettering the ones that cannot be) -> save the new offsets -> release.
 * The loop lives here; where each partition starts is partition-state.ts, what each has in
 * hand and what is fetched next is partition-feed.ts, the saves are checkpoints.ts, and one
 * batch's messages are delivered by deliver-records.ts. Pure logic: Kafka, DynamoDB, the
 * dead-letter destination and the logs are reached through the interfaces in `src/ports.ts`.
 *
 * Partitions are processed side by side (up to PARTITION_CONCURRENCY at once), each one
 * strictly in offset order, one message or batch at a time; fetch rounds go one at a time.
 *
 * Guarantees kept here:
 * - one run at a time per `consumer_id`: a run that finds the lease held returns at once;
 * - a partition never skips a message: each one is processed or dead-lettered before its
 *   offset counts as done; one that can be neither stops its partition just before it;
 * - offsets only move forward, only for partitions that moved, only to the last message done
 *   with (never past one still in flight), and only from the value this run read (a
 *   conditional write), even if the lease was lost;
 * - offsets are checkpointed every N messages or T ms, so a run killed outright repeats at
 *   most about two checkpoints' worth;
 * - the run stops at `maxMessages` (counted across all partitions), at the end of every
 *   partition (the last stable offset), or at the deadline, whichever comes first, and saves
 *   what it did even when Kafka fails.
 */
import { randomUUID } from 'node:crypto'
import { messageOf } from '../errors.ts'
import type { FetchedPartition, FetchRequest, Metrics, StoredOffsets, TopicPartitions } from '../ports.ts'
import { Checkpoints, isRetriable } from './checkpoints.ts'
import { DEFAULT_PROCESSING_POLICY, deliverRecords, type Outcome } from './deliver-records.ts'
import { LeaseKeeper } from './lease-keeper.ts'
import { type Batch, PartitionFeed } from './partition-feed.ts'
import {
  HeldReport,
  initialState,
  leaveOut,
  type PartitionState,
  type PartitionStateContext,
  resolveOutOfRange,
  unavailableState,
} from './partition-state.ts'
import { readStarts } from './read-starts.ts'
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
  // The offsets Query goes out beside the Metadata request: a warm run with nothing new waits on
  // one DynamoDB round trip in parallel with the two Kafka ones (Metadata, then ListOffsets).
  const readAt = (deps.clock ?? Date.now)()
  const stored = deps.offsets.read()
  // When the topic lookup fails first, that is the error reported; this one is not left unhandled.
  stored.catch(() => {})
  // When the topic does not exist, the run fails before writing anything, lease included.
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
  await run.readOffsets(topicPartitions, partitions, stored)
  if (!run.hasWork()) {
    run.reportStart()
    return run.summary()
  }
  const lease = await run.takeLease().catch((error: unknown) => {
    run.reportStart()
    throw error
  })
  if (lease === 'held') {
    run.reportStart()
    return run.summary()
  }
  try {
    // A run that ended after the read above may have saved offsets since: read them again
    // (what the first read found is then not told: only what this one finds).
    if (lease?.previousWriteAt !== undefined && lease.previousWriteAt >= readAt)
      await run.readOffsets(topicPartitions, partitions)
    run.reportStart()
    await run.recordStart(topicPartitions.length)
    await run.recordMismatches()
    await run.consume()
    await run.saveOffsets()
    return run.summary()
  } finally {
    run.reportStart()
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
  #filtered = 0
  #stopReason: StopReason = 'caught-up'
  #error: unknown
  /** What each partition has in hand, and what is fetched next (see partition-feed.ts). */
  #feed: PartitionFeed | undefined
  /** PARTITION_CONCURRENCY: batches delivered at once, each of a different partition. */
  readonly #concurrency: number
  #delivering = 0
  #startsScheduled = false
  /** The loop, waiting for a batch to be done with. */
  #waiting: Array<() => void> = []
  /** The last fetch asked for; one abandoned at the deadline is settled before the save. */
  #inFlight: Promise<unknown> | undefined
  /** The offsets as last read, with the consumer's start record. */
  #stored: StoredOffsets | undefined
  /** What the last read's start decisions said, until `reportStart` tells it. */
  #startReport: { readonly report: HeldReport; readonly leftOut: ReadonlySet<number> } | undefined

  constructor(deps: CycleDependencies, options: CycleOptions) {
    this.#deps = deps
    this.#options = options
    this.#clock = deps.clock ?? Date.now
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.#metrics = deps.metrics ?? { count: () => {}, measure: () => {} }
    this.#startedAt = this.#clock()
    this.#concurrency = Math.max(1, options.partitionConcurrency ?? Number.POSITIVE_INFINITY)
    this.#stateContext = {
      topic: options.topic,
      outOfRangePolicy: options.offsetOutOfRange ?? 'earliest',
      logger: deps.logger,
      metrics: this.#metrics,
      leftOut: new Set(),
    }
    this.#checkpoints = new Checkpoints(
      { offsets: deps.offsets, logger: deps.logger, clock: this.#clock, sleep: this.#sleep },
      options.topic,
      options.checkpoint,
      options.saveBy,
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

  /**
   * 1. The stored offsets, and where each partition starts (read-starts.ts). What the decisions
   * say (warnings, metrics) is held until `reportStart`, so that a second read tells it once.
   */
  async readOffsets(
    topicPartitions: TopicPartitions,
    partitions: readonly number[],
    stored: Promise<StoredOffsets> = this.#deps.offsets.read(),
  ): Promise<void> {
    const read = await readStarts(
      this.#deps.source,
      stored,
      this.#options.topic,
      topicPartitions,
      partitions,
      this.#options.startPosition,
    )
    const report = new HeldReport()
    const context: PartitionStateContext = {
      ...this.#stateContext,
      logger: report,
      metrics: report,
      leftOut: new Set(),
    }
    this.#states = partitions.map((partition) => {
      const start = read.starts.get(partition)!
      if (start.kind === 'unavailable')
        return unavailableState(partition, read.stored.get(partition)?.offset, start.reason, context)
      return initialState(partition, start.inputs, context)
    })
    this.#stored = read.stored
    this.#startReport = { report, leftOut: context.leftOut }
    this.#checkpoints.track(this.#states, topicPartitions.topicId)
  }

  /**
   * On the consumer's first run, before any offset is saved: the start record, which tells the
   * later runs (every shard's) a partition not saved yet from one added to the topic since.
   */
  async recordStart(partitionCount: number): Promise<void> {
    const stored = this.#stored
    if (stored === undefined || stored.start !== undefined || stored.size > 0) return
    await this.#deps.offsets.recordStart({
      partitionCount,
      startedAt: new Date(this.#clock()).toISOString(),
    })
  }

  /**
   * Stored offsets found not to fit their log are marked so in their items: the later runs stop
   * those partitions too, even once the log has grown past the offset. A mark that could not be
   * written is only logged: this run fails on the mismatch anyway, and the next one finds it again.
   */
  async recordMismatches(): Promise<void> {
    const found = this.#states.filter((state) => state.recordMismatch === true && state.item !== undefined)
    if (found.length === 0) return
    const foundAt = new Date(this.#clock()).toISOString()
    await Promise.all(
      found.map(async (state) => {
        const mismatch = state.mismatch!
        try {
          await this.#deps.offsets.recordMismatch(state.partition, state.item!, {
            reason: mismatch.reason,
            foundAt,
            logEndOffset: mismatch.logEndOffset,
            ...(mismatch.topicId !== undefined && { topicId: mismatch.topicId }),
          })
          state.recordMismatch = false
        } catch (error) {
          this.#deps.logger.warn(
            'Could not record the mismatch in the offsets table; the next run finds it again',
            {
              topic: this.#options.topic,
              partition: state.partition,
              error: messageOf(error),
            },
          )
        }
      }),
    )
  }

  /** Tells what the last read's start decisions found, once. */
  reportStart(): void {
    const held = this.#startReport
    if (held === undefined) return
    this.#startReport = undefined
    held.report.tell(this.#deps.logger, this.#metrics)
    for (const partition of held.leftOut) this.#stateContext.leftOut.add(partition)
  }

  #reportProgress(): void {
    const { progress } = this.#deps
    if (progress === undefined) return
    let lag = 0
    for (const state of this.#states) if (!state.halted) lag += Math.max(0, state.endOffset - state.position)
    const done = this.#done()
    progress({ done, remaining: Math.min(lag, Math.max(0, this.#options.maxMessages - done)) })
  }

  /** Something to consume or to save: a partition behind its end, a start to remember, or a mismatch to record. */
  hasWork(): boolean {
    return this.#states.some(
      (state) =>
        (!state.halted && state.position < state.endOffset) ||
        state.mustSave ||
        state.recordMismatch === true,
    )
  }

  /**
   * 2 and 3. Fetch rounds, one at a time, while the partitions' batches are delivered side by
   * side (at most PARTITION_CONCURRENCY at once), each partition's in offset order, one batch
   * after the other. The loop fetches for the partitions ready for more (see partition-feed.ts)
   * and otherwise waits for a batch to be done with.
   */
  async consume(): Promise<void> {
    const { logger } = this.#deps
    const { topic } = this.#options
    const feed = new PartitionFeed(this.#states, {
      maxMessages: this.#options.maxMessages,
      done: () => this.#done(),
      concurrency: this.#concurrency,
    })
    this.#feed = feed
    let idleRounds = 0
    let kafkaFailures = 0
    try {
      for (;;) {
        const cause = this.#stopCause()
        if (cause !== undefined) {
          this.#stop(cause)
          break
        }
        const round = feed.nextRound()
        if (round === undefined) {
          if (!this.#busy()) break
          await this.#batchDone()
          continue
        }
        let fetched: FetchedPartition[] | 'deadline'
        try {
          fetched = await this.#fetchBeforeDeadline(round.requests)
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
          // What was fetched before is delivered first, so the save before the wait keeps it.
          await this.#idle()
          await this.#checkpoints.now()
          // Delivering it took time: the wait must still end before the deadline.
          if (this.#clock() + delayMs >= this.#options.deadline) throw error
          await this.#sleep(delayMs)
          continue
        }
        if (fetched === 'deadline') {
          this.#stop('deadline')
          break
        }
        if (feed.receive(round, fetched)) {
          idleRounds = 0
          this.#scheduleStarts()
        } else if (this.#busy()) {
          // Nothing for these partitions just now; others are busy: ask again once one moved on.
          await this.#batchDone()
        } else if (++idleRounds >= MAX_IDLE_ROUNDS) {
          logger.warn('Fetches returned nothing although the broker reports more messages; ending the run', {
            topic,
            partitions: round.requests.map((request) => {
              const state = this.#stateOf(request.partition)
              return { partition: request.partition, position: state.position, endOffset: state.endOffset }
            }),
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
    // Stopped: what was read ahead is left for the next run. Otherwise what is in hand is delivered.
    if (this.#stopCause() !== undefined) feed.dropQueued()
    await this.#idle()
    const behind = this.#states.some((state) => !state.halted && state.position < state.endOffset)
    if (behind && this.#done() >= this.#options.maxMessages) this.#stop('max-messages')
  }

  /** 4. The final save, with retries; a failure is reported in the summary, not thrown. */
  async saveOffsets(): Promise<void> {
    await this.#settleFetch()
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
    if (this.#filtered > 0) this.#metrics.count('MessagesFiltered', this.#filtered)
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
        ...(state.filtered > 0 && { filtered: state.filtered }),
        lag: Math.max(0, state.endOffset - state.position),
        ...(state.failure && { failure: { offset: state.failure.offset, reason: state.failure.reason } }),
        ...(state.unavailable !== undefined && { unavailable: state.unavailable }),
        ...(state.mismatch !== undefined && { mismatch: state.mismatch }),
      })),
      count: this.#count,
      deadLettered: this.#deadLettered,
      filtered: this.#filtered,
      stopReason: this.#stopReason,
      // In partition order: each partition stops at its first failure, so it has one at most.
      failures: this.#states.flatMap((state) => (state.failure === undefined ? [] : [state.failure])),
      conflicts: checkpoints.conflicts,
      mismatches: this.#states.flatMap((state) =>
        state.mismatch === undefined ? [] : [{ partition: state.partition, ...state.mismatch }],
      ),
      offsetsWritten: checkpoints.written,
      checkpoints: checkpoints.count,
      durationMs: this.#clock() - this.#startedAt,
      ...(this.#leaseHeld && { lease: this.#leaseHeld }),
      ...(this.#error !== undefined && { error: this.#error }),
    }
  }

  #done(): number {
    return this.#count + this.#deadLettered + this.#filtered
  }

  /** The first reason the run stopped for is the one it reports. */
  #stop(reason: StopReason): void {
    if (this.#stopReason === 'caught-up') this.#stopReason = reason
  }

  /** Why the run must stop taking messages now, if it must. */
  #stopCause(): StopReason | undefined {
    if (this.#checkpoints.failure !== undefined) return 'offset-store-error'
    // Asked before every message: one clock read serves both the lease and the deadline.
    const now = this.#clock()
    if (this.#keeper !== undefined && this.#keeper.lostAt(now) !== undefined) return 'lease-lost'
    if (now >= this.#options.deadline) return 'deadline'
    if (this.#options.shouldStop?.() === true) return 'stopped'
    return undefined
  }

  #stateOf(partition: number): PartitionState {
    return this.#states.find((state) => state.partition === partition)!
  }

  /** A fetch still unanswered at the deadline is abandoned: the time left is for saving. */
  async #fetchBeforeDeadline(requests: readonly FetchRequest[]): Promise<FetchedPartition[] | 'deadline'> {
    const pending = this.#deps.source.fetch(this.#options.topic, requests)
    this.#inFlight = pending
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
   * Lets a fetch abandoned at the deadline finish before saving, so none outlives the run (the
   * next invocation's fetch session would trip on it); never past the deadline, which is for saving.
   */
  async #settleFetch(): Promise<void> {
    const settling = this.#inFlight?.then(
      () => {},
      () => {},
    )
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

  /** Batches being delivered, or fetched and waiting to be. */
  #busy(): boolean {
    return this.#delivering > 0 || (this.#feed?.inHand ?? 0) > 0
  }

  /** Resolves once a batch is done with (at once when none is in hand). */
  #batchDone(): Promise<void> {
    if (!this.#busy()) return Promise.resolve()
    this.#scheduleStarts()
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** Resolves once every batch in hand is done with. */
  async #idle(): Promise<void> {
    while (this.#busy()) await this.#batchDone()
  }

  /**
   * Batches start on the next turn of the event loop, not at once: a fetch just asked for
   * then gets on the wire before a synchronous processor holds the thread for a whole batch.
   */
  #scheduleStarts(): void {
    if (this.#startsScheduled) return
    this.#startsScheduled = true
    setImmediate(() => {
      this.#startsScheduled = false
      this.#startBatches()
    })
  }

  #startBatches(): void {
    const feed = this.#feed
    if (feed === undefined) return
    while (this.#delivering < this.#concurrency) {
      const batch = feed.start()
      if (batch === undefined) return
      this.#delivering++
      this.#deliverBatch(batch).then(
        (whole) => this.#finishBatch(batch, whole),
        (error: unknown) => {
          // Not a message failing (those are handled inside): a bug. Stop the partition where it is.
          const state = this.#stateOf(batch.partition)
          state.halted = true
          state.failure ??= {
            partition: state.partition,
            offset: state.position,
            reason: messageOf(error),
            error,
          }
          this.#finishBatch(batch, false)
        },
      )
    }
  }

  #finishBatch(batch: Batch, whole: boolean): void {
    this.#delivering--
    this.#feed?.finish(batch, whole)
    this.#reportProgress()
    const waiting = this.#waiting
    this.#waiting = []
    for (const resolve of waiting) resolve()
    this.#scheduleStarts()
  }

  /** One partition's batch, in offset order; true when every record of its response was done with. */
  async #deliverBatch(batch: Batch): Promise<boolean> {
    const { topic, consumerId } = this.#options
    const state = this.#stateOf(batch.partition)
    const { response } = batch
    if (response.offsetOutOfRange) {
      resolveOutOfRange(state, response.watermarks, 'during the run', this.#stateContext)
      return !state.halted
    }
    if (response.unavailable !== undefined) {
      leaveOut(state, response.unavailable, this.#stateContext)
      return false
    }
    const result = await deliverRecords(batch.records, {
      topic,
      consumerId,
      partition: state.partition,
      processor: this.#deps.processor,
      ...(this.#deps.reader && { reader: this.#deps.reader }),
      deadLetters: this.#deps.deadLetters,
      policy: this.#options.processing ?? DEFAULT_PROCESSING_POLICY,
      logger: this.#deps.logger,
      metrics: this.#metrics,
      clock: this.#clock,
      sleep: this.#sleep,
      deadline: this.#options.deadline,
      shouldStop: () => state.halted || this.#stopCause() !== undefined,
      onDone: (offset, outcome) => this.#onDone(state, batch, offset, outcome),
    })
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
    } else if (result.outOfTime) {
      // Its next attempt would end past the deadline: this partition is done for this run, and
      // the message is left for the next one. The other partitions go on until the deadline.
      state.halted = true
      this.#stop('deadline')
    } else if (!result.complete && !state.halted) {
      const cause = this.#stopCause()
      if (cause !== undefined) this.#stop(cause)
    }
    // Everything returned was done with: step over trailing control markers and aborted records too.
    const whole = result.complete && !batch.cut
    if (whole && response.lastOffset + 1 > state.position) state.position = response.lastOffset + 1
    return whole
  }

  #onDone(state: PartitionState, batch: Batch, offset: number, outcome: Outcome): Promise<void> | undefined {
    state.position = offset + 1
    if (outcome === 'processed') {
      state.count++
      this.#count++
    } else if (outcome === 'filtered') {
      state.filtered++
      this.#filtered++
    } else {
      state.deadLettered++
      this.#deadLettered++
    }
    this.#feed?.spent(batch)
    return this.#checkpoints.done()
  }
}
