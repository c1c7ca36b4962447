/**
 * One invocation, as the seed's data flow draws it, inside a run lease:
 *   take the lease -> read the stored offsets -> fetch from offset + 1 -> decode and process
 *   each message (dead-lettering the ones that cannot be) -> save the new offsets -> release.
 * Pure logic: Kafka, DynamoDB, the dead-letter destination and the logs are reached through
 * the interfaces in `ports.ts`.
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
import type { DeadLetterSink } from '../dead-letters/dead-letter.ts'
import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'
import type { Processor } from '../processing/message.ts'
import type { MessageReader } from '../processing/message-reader.ts'
import {
  DEFAULT_PROCESSING_POLICY,
  deliverRecords,
  type Outcome,
  type PartitionFailure,
  type ProcessingPolicy,
} from './deliver-records.ts'
import { OffsetOutOfRangeError } from './errors.ts'
import { LeaseKeeper } from './lease-keeper.ts'
import type {
  FetchedPartition,
  KafkaSource,
  Logger,
  Metrics,
  OffsetStore,
  OffsetWrite,
  PartitionWatermarks,
  RunLease,
} from './ports.ts'
import { ReadAhead, roundShare } from './read-ahead.ts'
import { ownedPartitions, type Shard } from './shards.ts'

export type { PartitionFailure, ProcessingPolicy } from './deliver-records.ts'

export type StartPosition = 'earliest' | 'latest'
/** Where a partition resumes when its next offset is no longer in the log (deleted by retention). */
export type OutOfRangePolicy = 'earliest' | 'latest' | 'fail'

export interface CheckpointPolicy {
  /** Save after this many messages done with (processed or dead-lettered); 0: not by count. */
  readonly everyMessages: number
  /** Save when this long has passed since the last save; 0: not by time. */
  readonly everyMs: number
}

export interface CycleOptions {
  readonly topic: string
  readonly consumerId: string
  readonly maxMessages: number
  readonly startPosition: StartPosition
  /** Clock time (ms) after which no fetch, no retry and no new message starts. */
  readonly deadline: number
  /** Asked between messages: true stops the run as the deadline would (Ctrl-C in `lkc start`). */
  readonly shouldStop?: () => boolean
  /** Default `earliest`. */
  readonly offsetOutOfRange?: OutOfRangePolicy
  /** Default: save only at the end. */
  readonly checkpoint?: CheckpointPolicy
  /** Default: 3 attempts, 200 ms before the first retry. */
  readonly processing?: ProcessingPolicy
  /** Who this run is, and how long a lease lasts unrenewed. Default: a random owner, 60 s. */
  readonly lease?: { readonly owner: string; readonly durationMs: number }
  /** Consume only this shard's partitions (SHARD_COUNT, SHARD_INDEX); default: all of them. */
  readonly shard?: Shard
}

export interface CycleDependencies {
  readonly source: KafkaSource
  readonly offsets: OffsetStore
  readonly processor: Processor
  /** Decoding (VALUE_FORMAT, KEY_FORMAT), the filter and the schema; default: JSON values, text keys. */
  readonly reader?: MessageReader
  readonly logger: Logger
  /** The run lease; without one, nothing stops two runs overlapping but the conditional writes. */
  readonly lease?: RunLease
  /** Where failed messages go; without one, a failed message stops its partition. */
  readonly deadLetters?: DeadLetterSink
  readonly metrics?: Metrics
  /** Milliseconds; `Date.now` unless a test drives time. */
  readonly clock?: () => number
  /** Waits between retries; `setTimeout` unless a test drives time. */
  readonly sleep?: (ms: number) => Promise<void>
  /** Told after each fetch round how far the run is (`lkc run` draws a progress bar from it). */
  readonly progress?: (progress: CycleProgress) => void
}

export interface CycleProgress {
  /** Messages done with so far (processed or dead-lettered). */
  readonly done: number
  /** Messages this run may still take: the lag it knows of, at most what MAX_MESSAGES leaves. */
  readonly remaining: number
}

export interface PartitionSummary {
  readonly partition: number
  /** The first offset this run started from. */
  readonly fromOffset: number
  /** The stored offset after the run (the last offset done with); `null` if none is stored. */
  readonly toOffset: number | null
  /** Messages processed. */
  readonly count: number
  readonly deadLettered: number
  /** Messages the handler's filter left out (done with, not processed); absent when none. */
  readonly filtered?: number
  /** Messages left after the run, as far as the run knows. */
  readonly lag: number
  readonly failure?: { readonly offset: number; readonly reason: string }
}

export type StopReason =
  | 'caught-up'
  | 'max-messages'
  | 'deadline'
  | 'stopped'
  | 'kafka-error'
  /** Another run holds the lease: nothing was read or written. */
  | 'lease-held'
  /** The lease was taken over during the run (it could not be renewed in time). */
  | 'lease-lost'
  /** A checkpoint could not be saved; the run stopped taking messages. */
  | 'offset-store-error'

export interface CycleSummary {
  readonly consumerId: string
  readonly topic: string
  readonly partitions: readonly PartitionSummary[]
  /** Messages processed. */
  readonly count: number
  readonly deadLettered: number
  /** Messages the handler's filter left out. */
  readonly filtered: number
  readonly stopReason: StopReason
  readonly failures: readonly PartitionFailure[]
  readonly conflicts: ReadonlyArray<{ readonly partition: number; readonly current: number | undefined }>
  readonly offsetsWritten: number
  readonly checkpoints: number
  readonly durationMs: number
  /** With `lease-held`: who holds the lease, until when (ISO-8601). */
  readonly lease?: { readonly holder: string; readonly expiresAt: string }
  /** The error that ended the run early (Kafka, or the final save), after what could be saved was. */
  readonly error?: unknown
}

const DEFAULT_LEASE_DURATION_MS = 60_000
/** Rounds in a row without progress before the run gives up waiting on the broker. */
const MAX_IDLE_ROUNDS = 3
/** Waits before fetching again after a retriable Kafka failure (a broker restarting, a leader moving). */
const KAFKA_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000]
/** Waits before saving again after a retriable DynamoDB failure. */
const SAVE_RETRY_DELAYS_MS = [250, 1000]

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

interface PartitionState {
  readonly partition: number
  /** The offset in the table when the run started (or after its last save). */
  stored: number | undefined
  /** The next offset to fetch; everything before it has been done with or skipped on purpose. */
  position: number
  /** Where this run started; set once the start is resolved. */
  fromOffset: number
  endOffset: number
  count: number
  deadLettered: number
  filtered: number
  /** Stopped: a failed message, a conflict, or an offset the run cannot resolve on its own. */
  halted: boolean
  /** Someone else moved the stored offset: never written again by this run. */
  conflicted: boolean
  failure?: PartitionFailure
  /** Write even if nothing was done: a `latest` start must be remembered, or the next run would skip ahead again. */
  mustSave: boolean
}

class CycleRun {
  readonly #deps: CycleDependencies
  readonly #options: CycleOptions
  readonly #clock: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #metrics: Metrics
  readonly #startedAt: number
  #states: PartitionState[] = []
  #keeper: LeaseKeeper | undefined
  #leaseHeld: { holder: string; expiresAt: string } | undefined
  #count = 0
  #deadLettered = 0
  #filtered = 0
  #stopReason: StopReason = 'caught-up'
  #error: unknown
  readonly #failures: PartitionFailure[] = []
  readonly #conflicts: Array<{ partition: number; current: number | undefined }> = []
  #written = 0
  #checkpoints = 0
  #sinceCheckpoint = 0
  #lastCheckpointAt: number
  #storeFailure: unknown
  /** A retry did not fit before the deadline. */
  #outOfTime = false
  /** The checkpoint being written in the background, if one is. */
  #checkpointing: Promise<void> | undefined
  /** The next fetch round, on its way while this one is processed (see read-ahead.ts). */
  #readAhead: ReadAhead | undefined

  constructor(deps: CycleDependencies, options: CycleOptions) {
    this.#deps = deps
    this.#options = options
    this.#clock = deps.clock ?? Date.now
    this.#sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    this.#metrics = deps.metrics ?? { count: () => {}, measure: () => {} }
    this.#startedAt = this.#clock()
    this.#lastCheckpointAt = this.#startedAt
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
    const { topic } = this.#options
    const [stored, watermarks] = await Promise.all([offsets.read(), source.watermarks(topic, partitions)])
    // With offsets already stored, a partition without one was added to the topic since:
    // it starts at its first message, whatever START_POSITION says, so nothing in it is missed.
    const firstRun = stored.size === 0
    this.#states = partitions.map((partition) =>
      this.#initialState(partition, stored.get(partition)?.offset, watermarks.get(partition), firstRun),
    )
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
          await this.#checkpointing
          await this.#checkpoint()
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
    await this.#checkpointing
    try {
      await this.#save()
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
      })),
      count: this.#count,
      deadLettered: this.#deadLettered,
      filtered: this.#filtered,
      stopReason: this.#stopReason,
      failures: this.#failures,
      conflicts: this.#conflicts,
      offsetsWritten: this.#written,
      checkpoints: this.#checkpoints,
      durationMs: this.#clock() - this.#startedAt,
      ...(this.#leaseHeld && { lease: this.#leaseHeld }),
      ...(this.#error !== undefined && { error: this.#error }),
    }
  }

  #done(): number {
    return this.#count + this.#deadLettered + this.#filtered
  }

  /** Why the run must stop taking messages now, if it must. */
  #stopCause(): StopReason | undefined {
    if (this.#storeFailure !== undefined) return 'offset-store-error'
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
      this.#outOfRange(state, response.watermarks, 'during the run')
      return
    }
    const records = response.records.length <= budget ? response.records : response.records.slice(0, budget)
    const result = await deliverRecords(records, {
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
      onDone: (offset, outcome) => this.#onDone(state, offset, outcome),
    })
    if (result.outOfTime) this.#outOfTime = true
    if (result.failure !== undefined) {
      const failure = result.failure
      state.halted = true
      state.failure = failure
      this.#failures.push(failure)
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
    } else if (outcome === 'filtered') {
      state.filtered++
      this.#filtered++
    } else {
      state.deadLettered++
      this.#deadLettered++
    }
    this.#sinceCheckpoint++
    const { everyMessages, everyMs } = this.#options.checkpoint ?? { everyMessages: 0, everyMs: 0 }
    const due =
      (everyMessages > 0 && this.#sinceCheckpoint >= everyMessages) ||
      (everyMs > 0 && this.#clock() - this.#lastCheckpointAt >= everyMs)
    if (!due) return undefined
    // The previous checkpoint is still being written: wait for it, so that no more than two
    // checkpoints' worth of messages is ever unsaved (the one being written, the one since).
    const previous = this.#checkpointing
    if (previous !== undefined) {
      return previous.then(() => {
        // A failed checkpoint stops the run: no point starting another one.
        if (this.#storeFailure === undefined) this.#startCheckpoint()
      })
    }
    this.#startCheckpoint()
    return undefined
  }

  /**
   * A checkpoint is written in the background while the messages go on: waiting for each save
   * would cost a DynamoDB round trip every `everyMessages`. One at a time, so each write expects
   * the value the previous one stored.
   */
  #startCheckpoint(): void {
    if (this.#checkpointing !== undefined) return
    this.#checkpointing = this.#checkpoint().finally(() => {
      this.#checkpointing = undefined
    })
  }

  /** Saves progress mid-run. A failure stops the run (the final save tries once more). */
  async #checkpoint(): Promise<void> {
    // The interval restarts when the save starts: messages done during it count towards the next.
    this.#sinceCheckpoint = 0
    this.#lastCheckpointAt = this.#clock()
    try {
      if (await this.#save()) this.#checkpoints++
    } catch (error) {
      this.#storeFailure = error
      this.#deps.logger.error('Could not checkpoint the offsets; the run stops taking messages', {
        topic: this.#options.topic,
        error: messageOf(error),
      })
    }
  }

  /** Conditional writes for every partition that moved; true when something was written. */
  async #save(): Promise<boolean> {
    const writes: OffsetWrite[] = []
    for (const state of this.#states) {
      if (state.conflicted) continue
      const last = state.position - 1
      const moved =
        state.stored === undefined ? state.position > state.fromOffset || state.mustSave : last > state.stored
      if (moved) writes.push({ partition: state.partition, offset: last, expected: state.stored })
    }
    if (writes.length === 0) return false
    const results = await this.#withSaveRetries(() => this.#deps.offsets.save(writes))
    for (const [index, result] of results.entries()) {
      const write = writes[index]!
      const state = this.#states.find((candidate) => candidate.partition === result.partition)!
      // A conflict with exactly the value written is this run's own write, from an attempt that failed late.
      if (result.status === 'saved' || result.current === write.offset) {
        state.stored = write.offset
        state.mustSave = false
        this.#written++
        continue
      }
      state.conflicted = true
      state.halted = true
      this.#conflicts.push({ partition: result.partition, current: result.current })
      this.#deps.logger.error('Offset changed by someone else since it was read; not overwritten', {
        topic: this.#options.topic,
        partition: result.partition,
        expected: state.stored,
        current: result.current,
        wanted: write.offset,
      })
    }
    return true
  }

  async #withSaveRetries<T>(save: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await save()
      } catch (error) {
        const delayMs = SAVE_RETRY_DELAYS_MS[attempt]
        if (!isRetriable(error) || delayMs === undefined) throw error
        this.#deps.logger.warn('Could not save the offsets; trying again', {
          topic: this.#options.topic,
          retryInMs: delayMs,
          error: messageOf(error),
        })
        await this.#sleep(delayMs)
      }
    }
  }

  #initialState(
    partition: number,
    stored: number | undefined,
    marks: PartitionWatermarks | undefined,
    firstRun: boolean,
  ): PartitionState {
    const logStartOffset = marks?.logStartOffset ?? 0
    const endOffset = marks?.endOffset ?? 0
    const context = { topic: this.#options.topic, partition }
    const state: PartitionState = {
      partition,
      stored,
      position: 0,
      fromOffset: 0,
      endOffset,
      count: 0,
      deadLettered: 0,
      filtered: 0,
      halted: false,
      conflicted: false,
      mustSave: false,
    }
    if (stored === undefined) {
      const start = firstRun ? this.#options.startPosition : 'earliest'
      if (!firstRun) this.#deps.logger.info('New partition: starting at its first message', { ...context })
      state.position = start === 'earliest' ? logStartOffset : endOffset
      // A `latest` start is saved even with nothing processed, or the next run would skip ahead again.
      state.mustSave = start === 'latest'
    } else {
      state.position = stored + 1
      if (state.position < logStartOffset) {
        this.#outOfRange(state, marks, 'at the start')
      } else if (state.position > endOffset) {
        this.#deps.logger.warn(
          'Stored offset is beyond the end of the partition (was the topic recreated?); not consuming it',
          {
            ...context,
            storedOffset: stored,
            endOffset,
            fix: "if the topic was recreated, delete this partition's item from the offsets table: it then starts at its first message",
          },
        )
        state.halted = true
      }
    }
    state.fromOffset = state.position
    return state
  }

  /** The next offset left the log (retention): resume per the policy, with a warning and a metric. */
  #outOfRange(state: PartitionState, marks: PartitionWatermarks | undefined, when: string): void {
    const { topic } = this.#options
    const policy = this.#options.offsetOutOfRange ?? 'earliest'
    const logStartOffset = marks?.logStartOffset
    if (logStartOffset === undefined || state.position >= logStartOffset) {
      this.#deps.logger.warn(
        'Offset is out of range and not behind the log start; leaving the partition for this run',
        {
          topic,
          partition: state.partition,
          position: state.position,
        },
      )
      state.halted = true
      return
    }
    const lost = logStartOffset - state.position
    this.#metrics.count('OffsetOutOfRange', 1)
    const context = {
      topic,
      partition: state.partition,
      ...(state.stored !== undefined && { storedOffset: state.stored }),
      position: state.position,
      logStartOffset,
      endOffset: marks?.endOffset,
      offsetsLostToRetention: lost,
      policy,
    }
    if (policy === 'fail') {
      const error = new OffsetOutOfRangeError(topic, state.partition, state.position, logStartOffset)
      state.halted = true
      state.failure = { partition: state.partition, offset: state.position, reason: error.message, error }
      this.#failures.push(state.failure)
      this.#deps.logger.error(
        `Offset was deleted by retention ${when}; the partition stops (policy fail)`,
        context,
      )
      return
    }
    const resumeAt = policy === 'earliest' ? logStartOffset : (marks?.endOffset ?? logStartOffset)
    this.#deps.logger.warn(
      `Offset was deleted by retention ${when}; resuming at the log ${policy === 'earliest' ? 'start' : 'end'}`,
      { ...context, resumeAt },
    )
    this.#metrics.count('OffsetsLostToRetention', lost)
    state.position = resumeAt
    state.mustSave = true
  }
}

function isRetriable(error: unknown): boolean {
  return error instanceof LambdaKafkaConsumerError && error.retriable
}
