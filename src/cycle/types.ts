/**
 * The run cycle's own types: what a run is given (its options and the adapters it reaches
 * the outside through) and what it reports (the summary, per partition). Types only, so the
 * modules of the cycle, its errors and the run metrics can share them without importing the
 * loop.
 */
import type { DeadLetterSink } from '../dead-letters/dead-letter.ts'
import type { KafkaSource, Logger, Metrics, OffsetStore, RunLease } from '../ports.ts'
import type { Processor } from '../processing/message.ts'
import type { MessageReader } from '../processing/message-reader.ts'
import type { PartitionFailure, ProcessingPolicy } from './deliver-records.ts'
import type { Shard } from './shards.ts'

export type { PartitionFailure, ProcessingPolicy } from './deliver-records.ts'

/**
 * Where a partition this consumer has never consumed starts (START_POSITION): its first
 * retained message, its end, or its first message at or after a time (START_TIMESTAMP, as the
 * Lambda Kafka trigger's AT_TIMESTAMP).
 */
export type StartPosition = 'earliest' | 'latest' | { readonly timestampMs: number }

/**
 * A stored offset that does not fit its partition's log, so the partition is not consumed (and
 * the invocation fails) until an operator decides where it starts (`lkc reset`): consuming from it
 * would skip the messages the log now holds below it.
 */
export interface OffsetMismatch {
  /**
   * `topic-id`: saved for another topic of this name (the topic was deleted and re-created);
   * `beyond-end`: past the end of the log (re-created, migrated, or truncated by an unclean
   * leader election).
   */
  readonly reason: 'topic-id' | 'beyond-end'
  readonly storedOffset: number
  /** The log now, from its first offset to its end. */
  readonly logStartOffset: number
  readonly logEndOffset: number
  /** The topic's id now, when the cluster gives ids. */
  readonly topicId?: string
  /** The id of the topic the offset was saved for, when the item has one. */
  readonly storedTopicId?: string
  /** When an earlier run found it and recorded it in the item (ISO-8601); absent when this run found it. */
  readonly foundAt?: string
}
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
  /**
   * Clock time (ms) by which a save's retries must be over: no retry starts that would end
   * after it, and a retry is cut there. A save's first attempt is always made (the store bounds
   * it), however late: a save takes milliseconds when DynamoDB answers. The handler sets it to
   * the invocation's timeout less what the lease release and the summary need. Default: none.
   */
  readonly saveBy?: number
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
  /**
   * How many partitions are delivered at once (PARTITION_CONCURRENCY), each in offset order,
   * one message or batch at a time. Default: every partition with data.
   */
  readonly partitionConcurrency?: number
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
  /** Told after each batch how far the run is (`lkc run` draws a progress bar from it). */
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
  /** Left out of this run, and why: no leader, or its leader did not answer (its lag is then unknown). */
  readonly unavailable?: string
  /** Not consumed: its stored offset does not fit the log (the lag is then the whole log). */
  readonly mismatch?: OffsetMismatch
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
  /** Partitions whose stored offset does not fit their log: not consumed, and the invocation fails. */
  readonly mismatches: ReadonlyArray<OffsetMismatch & { readonly partition: number }>
  readonly offsetsWritten: number
  readonly checkpoints: number
  readonly durationMs: number
  /** With `lease-held`: who holds the lease, until when (ISO-8601). */
  readonly lease?: { readonly holder: string; readonly expiresAt: string }
  /** The error that ended the run early (Kafka, or the final save), after what could be saved was. */
  readonly error?: unknown
}
