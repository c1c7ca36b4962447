/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * The small interfaces through which the run cycle reaches the outside world: Kafka, the
 * offsets table, the run lease, metrics and the logs, and the record shape they exchange. On
 * the ground floor because both sides use them: the cycle (`src/cycle`) talks to them and
 * imports no SDK and no Kafka client; the adapters in `src/kafka`, `src/offsets`,
 * `src/lambda` and `src/cli` implement them, decoding and dead letters read `FetchedRecord`,
 * and unit tests use in-memory fakes (`test/support/fakes.ts`).
 *
 * Offsets are plain numbers: Kafka's are 64-bit, but a partition would need 2^53 messages
 * before the difference showed, and numbers keep summaries, logs and DynamoDB items simple.
 */

/** One record as the broker returned it, before decoding. */
export interface FetchedRecord {
  readonly offset: number
  /** Milliseconds since the epoch (the record's create or log-append time). */
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [Buffer | null, Buffer | null]>
}

export interface PartitionWatermarks {
  /** The first offset the broker still retains. */
  readonly logStartOffset: number
  /**
   * The offset after the last readable message: the last stable offset (read_committed),
   * which is the high watermark when no transaction is open.
   */
  readonly endOffset: number
}

/**
 * The watermarks of the partitions whose offsets could be listed. A partition without a
 * leader now (its replicas' brokers are down), or whose leader did not answer, is left out of
 * the map and listed in `unavailable`, with why: the other partitions can still be consumed.
 */
export interface TopicWatermarks extends ReadonlyMap<number, PartitionWatermarks> {
  readonly unavailable?: ReadonlyMap<number, string>
}

export interface FetchRequest {
  readonly partition: number
  readonly fetchOffset: number
}

export interface FetchedPartition {
  readonly partition: number
  /** Data records at or after the requested offset, in offset order; aborted and control records removed. */
  readonly records: readonly FetchedRecord[]
  /**
   * The highest offset this response covered, control markers and aborted records included;
   * `fetchOffset - 1` when it covered nothing. Skipped records are "seen" up to here.
   */
  readonly lastOffset: number
  /** Watermarks reported with the response, when the broker sent them. */
  readonly watermarks?: PartitionWatermarks
  /** The requested offset is no longer (or not yet) in the log. */
  readonly offsetOutOfRange?: boolean
  /** Nothing could be fetched: the partition has no leader now, or its leader did not answer; why. */
  readonly unavailable?: string
}

/** A topic's partition numbers (0 to n - 1), and the topic's identity. */
export interface TopicPartitions extends ReadonlyArray<number> {
  /**
   * Kafka's id of the topic (a UUID, in Metadata v10 and later): a topic deleted and created
   * again under the same name gets a new one. Undefined when the cluster gives no ids.
   */
  readonly topicId?: string
}

/** Offsets found for a point in time, by partition; like the watermarks, without the partitions that have no leader. */
export interface TopicOffsets extends ReadonlyMap<number, number> {
  readonly unavailable?: ReadonlyMap<number, string>
}

/** The Kafka side: read-only, no consumer group. */
export interface KafkaSource {
  /** The partition numbers of the topic, and its id. Throws `TopicNotFoundError` when it does not exist. */
  partitions(topic: string): Promise<TopicPartitions>
  watermarks(topic: string, partitions: readonly number[]): Promise<TopicWatermarks>
  /**
   * Each partition's first offset whose timestamp is at or after `timestampMs` (ListOffsets by
   * time), or its end when there is none.
   */
  offsetsAtTime(topic: string, partitions: readonly number[], timestampMs: number): Promise<TopicOffsets>
  /**
   * One fetch round: every requested partition, from each one's leader, in parallel. A
   * partition without a leader comes back `unavailable`; one whose leader failed while others
   * answered is left out of this round (its leader is looked up again for the next).
   */
  fetch(topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]>
  close(): Promise<void>
}

/** An offset as stored: the last offset processed in the partition. */
export interface StoredOffset {
  readonly offset: number
  /** ISO-8601 time of the last save, when the item has one (items of the Python design do not). */
  readonly updatedAt?: string
  /** The id of the topic the offset was saved for; absent on items saved before ids were kept (the Python design's). */
  readonly topicId?: string
  /** A run found that this offset does not fit its partition's log: the item says so until `lkc reset` rewrites it. */
  readonly mismatch?: RecordedMismatch
}

/** Why a stored offset does not fit its partition's log, as the run that found it recorded it. */
export interface RecordedMismatch {
  /** `topic-id`: it was saved for another topic of the same name; `beyond-end`: it is past the log's end. */
  readonly reason: 'topic-id' | 'beyond-end'
  /** When it was found (ISO-8601). */
  readonly foundAt: string
  /** The partition's log end offset then. */
  readonly logEndOffset: number
  /** The topic's id then, when the cluster gives ids. */
  readonly topicId?: string
}

/**
 * The consumer's start, recorded by its first run before any offset is saved. It tells a
 * partition that has no offset yet because its first run has not saved it (another shard's
 * first run wrote the record) from one added to the topic since (which starts at its first
 * message, so nothing in it is missed).
 */
export interface ConsumerStart {
  /** How many partitions the topic had at the consumer's first run. */
  readonly partitionCount: number
  /** ISO-8601. */
  readonly startedAt?: string
}

/** Every partition's stored offset, and the consumer's start record once its first run has begun. */
export interface StoredOffsets extends ReadonlyMap<number, StoredOffset> {
  /** Absent before the first run, and in tables written only by the Python design (or before the record existed). */
  readonly start?: ConsumerStart
}

export interface OffsetWrite {
  readonly partition: number
  readonly offset: number
  /** The offset read at the start of the run (or last saved by it); `undefined` when there was none. */
  readonly expected: number | undefined
  /** The topic's id, stored beside the offset (an item without one is stamped by its next save). */
  readonly topicId?: string
}

export type OffsetWriteResult =
  | { readonly partition: number; readonly status: 'saved' }
  /** Someone else changed the stored offset since it was read: nothing was overwritten. */
  | { readonly partition: number; readonly status: 'conflict'; readonly current: number | undefined }
  /** Not written, as far as is known: DynamoDB failed or did not answer in time; `error` says why. */
  | { readonly partition: number; readonly status: 'failed'; readonly error: unknown }

/** The offsets table (the seed's schema), one item per partition under one `consumer_id`. */
export interface OffsetStore {
  /** Every partition's stored offset, and the consumer's start record, in one read. */
  read(): Promise<StoredOffsets>
  /**
   * Conditional writes: an item changes only if it still holds `expected`. Each write stands on
   * its own: one that fails comes back `failed` beside the others' results, so the caller knows
   * which partitions were saved even when some were not. `endBy` (clock time, ms): a write still
   * unanswered then is given up, and fails; none starts after it.
   */
  save(writes: readonly OffsetWrite[], endBy?: number): Promise<OffsetWriteResult[]>
  /** Records the consumer's start, unless one is recorded already (another shard's first run). */
  recordStart(start: ConsumerStart): Promise<void>
  /**
   * Marks a partition's stored offset as not fitting its log, keeping the offset as it is:
   * conditional on the item still holding `stored.offset`. `lkc reset` clears the mark.
   */
  recordMismatch(
    partition: number,
    stored: StoredOffset,
    mismatch: RecordedMismatch,
  ): Promise<Exclude<OffsetWriteResult, { status: 'failed' }>>
}

/** What taking the lease found. Times are milliseconds since the epoch. */
export type LeaseAcquisition =
  | {
      readonly acquired: true
      readonly expiresAt: number
      /** When the lease item was last written before this run took it (the previous run's release). */
      readonly previousWriteAt?: number
    }
  /** Another run holds it until `expiresAt`. */
  | { readonly acquired: false; readonly holder: string; readonly expiresAt: number }

/**
 * The run lease: one item per `consumer_id` saying which run may consume, until when. Taken
 * with a conditional write; a run that dies keeps it only until it expires. Times come from
 * the caller's clock, so every run of one consumer must agree on the time to within a few
 * seconds (Lambda's clocks do).
 */
export interface RunLease {
  /** Takes the lease if it is free, expired, or already `owner`'s. */
  acquire(owner: string, now: number, durationMs: number): Promise<LeaseAcquisition>
  /** Extends `owner`'s lease; false when it is no longer `owner`'s (someone took it after it expired). */
  renew(owner: string, now: number, durationMs: number): Promise<boolean>
  /** Frees the lease if it is still `owner`'s; never throws for a lease that moved on. */
  release(owner: string, now: number): Promise<void>
}

/** Metrics for operators (CloudWatch metrics in Lambda). Names are PascalCase, e.g. `OffsetOutOfRange`. */
export interface Metrics {
  /** Adds to a counter for this invocation. */
  count(name: string, value: number): void
  /** One value of a measurement (a lag, a duration), optionally under extra dimensions (`partition`). */
  measure(
    name: string,
    value: number,
    unit: 'Count' | 'Milliseconds',
    dimensions?: Readonly<Record<string, string>>,
  ): void
}

export type LogAttributes = Record<string, unknown>

/** Structured logging: JSON lines in Lambda, readable lines in a terminal. */
export interface Logger {
  debug(message: string, attributes?: LogAttributes): void
  info(message: string, attributes?: LogAttributes): void
  warn(message: string, attributes?: LogAttributes): void
  error(message: string, attributes?: LogAttributes): void
}
