/**
 * The run's offsets on their way to the table, as KafkaJS has its offset manager: it counts
 * the messages done with, writes a checkpoint every N messages or T ms in the background (one
 * at a time), and makes the final save. Every save is a conditional write per partition that
 * moved, of `position - 1`: the last offset done with. A partition's position moves only once
 * a message is done with (processed, or its dead letter stored), so no save ever covers a
 * message still in flight. A write that meets someone else's value is a conflict: the
 * partition stops and is never written again by this run.
 */
import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'
import type { Logger, OffsetStore, OffsetWrite, OffsetWriteResult } from '../ports.ts'
import type { PartitionState } from './partition-state.ts'
import type { CheckpointPolicy } from './types.ts'

/** Waits before saving again after a retriable DynamoDB failure. */
const SAVE_RETRY_DELAYS_MS = [250, 1000]

export interface CheckpointsDependencies {
  readonly offsets: OffsetStore
  readonly logger: Logger
  readonly clock: () => number
  readonly sleep: (ms: number) => Promise<void>
}

export class Checkpoints {
  readonly #deps: CheckpointsDependencies
  readonly #topic: string
  readonly #policy: CheckpointPolicy
  /** CycleOptions.saveBy: no save retry runs past it. */
  readonly #saveBy: number | undefined
  #states: readonly PartitionState[] = []
  /** The topic's id, stamped on every item written. */
  #topicId: string | undefined
  #sinceCheckpoint = 0
  #lastCheckpointAt: number
  /** The checkpoint being written in the background, if one is. */
  #checkpointing: Promise<void> | undefined
  /** Items written (one per partition per save). */
  written = 0
  /** Checkpoints that wrote something. */
  count = 0
  readonly conflicts: Array<{ partition: number; current: number | undefined }> = []
  /** Why a checkpoint could not be saved; the run stops taking messages once it is set. */
  failure: unknown

  constructor(
    deps: CheckpointsDependencies,
    topic: string,
    policy: CheckpointPolicy | undefined,
    saveBy?: number,
  ) {
    this.#deps = deps
    this.#topic = topic
    this.#policy = policy ?? { everyMessages: 0, everyMs: 0 }
    this.#saveBy = saveBy
    this.#lastCheckpointAt = deps.clock()
  }

  /** The partitions whose offsets are saved (set again when the run reads the offsets again), and the topic's id. */
  track(states: readonly PartitionState[], topicId?: string): void {
    this.#states = states
    this.#topicId = topicId
  }

  /**
   * A message was done with (its partition's position already moved past it). May start a
   * checkpoint; returns a promise when the caller must wait before its next message.
   */
  done(): Promise<void> | undefined {
    this.#sinceCheckpoint++
    const { everyMessages, everyMs } = this.#policy
    const due =
      (everyMessages > 0 && this.#sinceCheckpoint >= everyMessages) ||
      (everyMs > 0 && this.#deps.clock() - this.#lastCheckpointAt >= everyMs)
    if (!due) return undefined
    // The previous checkpoint is still being written: wait for it, so that no more than two
    // checkpoints' worth of messages is ever unsaved (the one being written, the one since).
    const previous = this.#checkpointing
    if (previous !== undefined) {
      return previous.then(() => {
        // A failed checkpoint stops the run: no point starting another one.
        if (this.failure === undefined) this.#start()
      })
    }
    this.#start()
    return undefined
  }

  /** One checkpoint now, after the one being written: progress kept before waiting on Kafka. */
  async now(): Promise<void> {
    await this.#checkpointing
    await this.#checkpoint()
  }

  /** Waits for the checkpoint being written, if one is. */
  async settle(): Promise<void> {
    await this.#checkpointing
  }

  /** The final save, with retries; throws when it could not save. */
  async save(): Promise<void> {
    await this.settle()
    await this.#save()
  }

  /**
   * A checkpoint is written in the background while the messages go on: waiting for each save
   * would cost a DynamoDB round trip every `everyMessages`. One at a time, so each write expects
   * the value the previous one stored.
   */
  #start(): void {
    if (this.#checkpointing !== undefined) return
    this.#checkpointing = this.#checkpoint().finally(() => {
      this.#checkpointing = undefined
    })
  }

  /** Saves progress mid-run. A failure stops the run (the final save tries once more). */
  async #checkpoint(): Promise<void> {
    // The interval restarts when the save starts: messages done during it count towards the next.
    this.#sinceCheckpoint = 0
    this.#lastCheckpointAt = this.#deps.clock()
    try {
      if (await this.#save()) this.count++
    } catch (error) {
      this.failure = error
      this.#deps.logger.error('Could not checkpoint the offsets; the run stops taking messages', {
        topic: this.#topic,
        error: messageOf(error),
      })
    }
  }

  /**
   * Conditional writes for every partition that moved; true when something was written. Each
   * write's result is taken as it comes, even when others failed: a partition saved while another
   * could not be is known to be saved, so the next save expects its new value (not a conflict).
   * Only the writes that failed are tried again. Throws the first failure once retries are over.
   */
  async #save(): Promise<boolean> {
    let pending: OffsetWrite[] = []
    const topicId = this.#topicId
    for (const state of this.#states) {
      // A stored offset that does not fit its log is the operator's to move (`lkc reset`), never a run's.
      if (state.conflicted || state.mismatch !== undefined) continue
      const last = state.position - 1
      const moved =
        state.stored === undefined ? state.position > state.fromOffset || state.mustSave : last > state.stored
      if (moved) {
        pending.push({
          partition: state.partition,
          offset: last,
          expected: state.stored,
          ...(topicId !== undefined && { topicId }),
        })
      }
    }
    if (pending.length === 0) return false
    const saveBy = this.#saveBy
    for (let attempt = 0; ; attempt++) {
      // The first attempt is always made (the store bounds it); retries end by `saveBy`.
      const failed = await this.#write(pending, attempt === 0 ? undefined : saveBy)
      if (failed.length === 0) return true
      const error = failed[0]!.error
      const delayMs = SAVE_RETRY_DELAYS_MS[attempt]
      if (!isRetriable(error) || delayMs === undefined) throw error
      // TIMEOUT_MARGIN_MS: a retry that would start after `saveBy` is not made.
      if (saveBy !== undefined && this.#deps.clock() + delayMs >= saveBy) throw error
      this.#deps.logger.warn('Could not save the offsets; trying again', {
        topic: this.#topic,
        partitions: failed.map((result) => result.partition),
        retryInMs: delayMs,
        error: messageOf(error),
      })
      await this.#deps.sleep(delayMs)
      const again = new Set(failed.map((result) => result.partition))
      pending = pending.filter((write) => again.has(write.partition))
    }
  }

  /** One attempt at `writes`: what was saved or conflicted is applied to the states; returns what failed. */
  async #write(
    writes: readonly OffsetWrite[],
    endBy: number | undefined,
  ): Promise<Array<{ partition: number; error: unknown }>> {
    let results: OffsetWriteResult[]
    try {
      results = await this.#deps.offsets.save(writes, endBy)
    } catch (error) {
      // A store that fails the save as a whole: nothing is known to be saved.
      results = writes.map((write) => ({ partition: write.partition, status: 'failed', error }))
    }
    const failed: Array<{ partition: number; error: unknown }> = []
    for (const result of results) {
      const write = writes.find((candidate) => candidate.partition === result.partition)!
      const state = this.#states.find((candidate) => candidate.partition === result.partition)!
      if (result.status === 'failed') {
        failed.push({ partition: result.partition, error: result.error })
        continue
      }
      // A conflict with exactly the value written is this run's own write, from an attempt that failed late.
      if (result.status === 'saved' || result.current === write.offset) {
        state.stored = write.offset
        state.mustSave = false
        this.written++
        continue
      }
      state.conflicted = true
      state.halted = true
      this.conflicts.push({ partition: result.partition, current: result.current })
      this.#deps.logger.error('Offset changed by someone else since it was read; not overwritten', {
        topic: this.#topic,
        partition: result.partition,
        expected: state.stored,
        current: result.current,
        wanted: write.offset,
      })
    }
    return failed
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof LambdaKafkaConsumerError && error.retriable
}
