/**
 * In-memory fakes behind the cycle's interfaces, for unit tests: a Kafka topic with
 * partitions of records, an offsets table with conditional writes, a run lease, a dead-letter
 * destination, metrics, and a logger that keeps what it was told.
 */

import type { DeadLetter, DeadLetterSink } from '../../src/dead-letters/dead-letter.ts'
import type {
  ConsumerStart,
  FetchedPartition,
  FetchedRecord,
  FetchRequest,
  KafkaSource,
  LeaseAcquisition,
  LogAttributes,
  Logger,
  Metrics,
  OffsetStore,
  OffsetWrite,
  OffsetWriteResult,
  PartitionWatermarks,
  RecordedMismatch,
  RunLease,
  StoredOffset,
  StoredOffsets,
  TopicOffsets,
  TopicPartitions,
  TopicWatermarks,
} from '../../src/ports.ts'

/** The id the fake topic has until a test re-creates it. */
export const TOPIC_ID = '5f1e6b2a-0c4d-4e8f-9a7b-3c2d1e0f9a8b'

export function record(offset: number, value: string | null, key: string | null = null): FetchedRecord {
  return {
    offset,
    timestamp: 1_700_000_000_000 + offset,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers: [],
  }
}

export interface FakePartition {
  /** Records by offset; gaps (control markers, aborted records) are offsets with no record. */
  records: FetchedRecord[]
  logStartOffset: number
  endOffset: number
}

export class FakeKafkaSource implements KafkaSource {
  readonly partitionsOf = new Map<number, FakePartition>()
  readonly fetches: FetchRequest[][] = []
  /** Most records one partition returns per fetch (a fetch size limit). */
  maxRecordsPerFetch = Number.POSITIVE_INFINITY
  /** Thrown by the nth fetch (1-based), and the `times - 1` after it: a broker going away mid-run. */
  failFetch?: { at: number; error: Error; times?: number }
  topicExists = true
  /** Fetches return nothing at all, although the watermarks say there is more (a stuck broker). */
  stalled = false
  /** Partitions without a leader now, with why: left out of the watermarks, fetched as `unavailable`. */
  readonly unavailable = new Map<number, string>()
  /** Kafka's topic id; undefined: a cluster that gives none. */
  topicId: string | undefined = TOPIC_ID
  /** The `offsetsAtTime` lookups asked for: the time and the partitions. */
  readonly timeLookups: Array<{ timestampMs: number; partitions: number[] }> = []

  /** The topic deleted and created again: a new id, and these partitions' logs from offset 0. */
  recreate(topicId: string, counts: readonly number[]): void {
    this.topicId = topicId
    this.partitionsOf.clear()
    for (const [partition, count] of counts.entries()) this.addPartition(partition, count)
  }

  /** A partition holding `count` JSON records from `logStartOffset`. */
  addPartition(partition: number, count: number, logStartOffset = 0): FakePartition {
    const records = Array.from({ length: count }, (_, index) =>
      record(logStartOffset + index, JSON.stringify({ partition, index: logStartOffset + index })),
    )
    const state = { records, logStartOffset, endOffset: logStartOffset + count }
    this.partitionsOf.set(partition, state)
    return state
  }

  async partitions(topic: string): Promise<TopicPartitions> {
    if (!this.topicExists) throw new Error(`Topic "${topic}" does not exist`)
    const partitions = [...this.partitionsOf.keys()].sort((a, b) => a - b)
    return this.topicId === undefined ? partitions : Object.assign(partitions, { topicId: this.topicId })
  }

  /** The first record at or after the time (records are stamped 1_700_000_000_000 + offset), else the end. */
  async offsetsAtTime(
    _topic: string,
    partitions: readonly number[],
    timestampMs: number,
  ): Promise<TopicOffsets> {
    this.timeLookups.push({ timestampMs, partitions: [...partitions] })
    const found = new Map<number, number>()
    for (const partition of partitions) {
      if (this.unavailable.has(partition)) continue
      const state = this.partitionsOf.get(partition)!
      const first = state.records.find((candidate) => candidate.timestamp >= timestampMs)
      found.set(partition, first?.offset ?? state.endOffset)
    }
    return Object.assign(found, { unavailable: new Map(this.unavailable) })
  }

  async watermarks(_topic: string, partitions: readonly number[]): Promise<TopicWatermarks> {
    const marks = new Map<number, PartitionWatermarks>()
    for (const partition of partitions) {
      if (this.unavailable.has(partition)) continue
      const state = this.partitionsOf.get(partition)!
      marks.set(partition, { logStartOffset: state.logStartOffset, endOffset: state.endOffset })
    }
    return Object.assign(marks, { unavailable: new Map(this.unavailable) })
  }

  async fetch(_topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]> {
    this.fetches.push([...requests])
    const failing = this.failFetch
    if (
      failing &&
      this.fetches.length >= failing.at &&
      this.fetches.length < failing.at + (failing.times ?? 1)
    ) {
      throw failing.error
    }
    return requests.map(({ partition, fetchOffset }) => {
      const unavailable = this.unavailable.get(partition)
      if (unavailable !== undefined)
        return { partition, records: [], lastOffset: fetchOffset - 1, unavailable }
      const state = this.partitionsOf.get(partition)!
      const watermarks = { logStartOffset: state.logStartOffset, endOffset: state.endOffset }
      if (this.stalled) return { partition, records: [], lastOffset: fetchOffset - 1 }
      if (fetchOffset < state.logStartOffset) {
        return { partition, records: [], lastOffset: fetchOffset - 1, offsetOutOfRange: true, watermarks }
      }
      const records = state.records
        .filter((candidate) => candidate.offset >= fetchOffset && candidate.offset < state.endOffset)
        .slice(0, this.maxRecordsPerFetch)
      const limited = records.length === this.maxRecordsPerFetch
      const lastOffset = limited ? records[records.length - 1]!.offset : state.endOffset - 1
      return { partition, records, lastOffset: Math.max(lastOffset, fetchOffset - 1), watermarks }
    })
  }

  async close(): Promise<void> {}
}

export class InMemoryOffsetStore implements OffsetStore {
  readonly items = new Map<number, StoredOffset>()
  readonly saves: OffsetWrite[][] = []
  /** The `endBy` each save was given. */
  readonly saveEndBy: Array<number | undefined> = []
  reads = 0
  /** Called before each write: lets a test change an item behind the run's back. */
  beforeWrite?: (write: OffsetWrite) => void
  failSave?: Error
  /** With `failSave`: how many saves fail before they work again (default: all). */
  failSaveTimes = Number.POSITIVE_INFINITY
  /** Thrown by `read` (DynamoDB unreachable at the start). */
  failRead?: Error
  /** The writes of these partitions fail (come back `failed`) while the others are saved. */
  readonly failPartitions = new Map<number, Error>()
  /** The consumer's start record. */
  start: ConsumerStart | undefined
  /** Mismatches recorded, in order. */
  readonly mismatchesRecorded: Array<{ partition: number; mismatch: RecordedMismatch }> = []
  /** Every call, in order: `read`, `recordStart`, `save 0,1`, `recordMismatch 2`. */
  readonly calls: string[] = []

  async read(): Promise<StoredOffsets> {
    this.reads++
    this.calls.push('read')
    if (this.failRead) throw this.failRead
    const items = new Map(this.items)
    return this.start === undefined ? items : Object.assign(items, { start: this.start })
  }

  async recordStart(start: ConsumerStart): Promise<void> {
    this.calls.push('recordStart')
    this.start ??= start
  }

  async recordMismatch(
    partition: number,
    stored: StoredOffset,
    mismatch: RecordedMismatch,
  ): Promise<Exclude<OffsetWriteResult, { status: 'failed' }>> {
    this.calls.push(`recordMismatch ${partition}`)
    const current = this.items.get(partition)
    if (current?.offset !== stored.offset) return { partition, status: 'conflict', current: current?.offset }
    this.items.set(partition, { ...current, mismatch })
    this.mismatchesRecorded.push({ partition, mismatch })
    return { partition, status: 'saved' }
  }

  async save(writes: readonly OffsetWrite[], endBy?: number): Promise<OffsetWriteResult[]> {
    this.calls.push(`save ${writes.map((write) => write.partition).join(',')}`)
    this.saves.push([...writes])
    this.saveEndBy.push(endBy)
    if (this.failSave && this.failSaveTimes > 0) {
      this.failSaveTimes--
      throw this.failSave
    }
    return writes.map((write): OffsetWriteResult => {
      const failure = this.failPartitions.get(write.partition)
      if (failure !== undefined) return { partition: write.partition, status: 'failed', error: failure }
      this.beforeWrite?.(write)
      const current = this.items.get(write.partition)?.offset
      if (current !== write.expected || (current !== undefined && write.offset <= current)) {
        return { partition: write.partition, status: 'conflict' as const, current }
      }
      this.items.set(write.partition, {
        offset: write.offset,
        updatedAt: new Date().toISOString(),
        ...(write.topicId !== undefined && { topicId: write.topicId }),
      })
      return { partition: write.partition, status: 'saved' as const }
    })
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  attributes?: LogAttributes
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = []
  debug(message: string, attributes?: LogAttributes) {
    this.entries.push({ level: 'debug', message, ...(attributes && { attributes }) })
  }
  info(message: string, attributes?: LogAttributes) {
    this.entries.push({ level: 'info', message, ...(attributes && { attributes }) })
  }
  warn(message: string, attributes?: LogAttributes) {
    this.entries.push({ level: 'warn', message, ...(attributes && { attributes }) })
  }
  error(message: string, attributes?: LogAttributes) {
    this.entries.push({ level: 'error', message, ...(attributes && { attributes }) })
  }
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level)
  }
}

/** A run lease in memory, with the same rules as the DynamoDB one: free, expired, or already ours. */
export class InMemoryRunLease implements RunLease {
  holder: { owner: string; expiresAt: number } | undefined
  readonly calls: string[] = []
  /** Thrown by `acquire` (DynamoDB unreachable at the start). */
  failAcquire?: Error
  /** Thrown by `renew`. */
  failRenew?: Error

  /** When the item was last written before the next acquire (the previous run's release). */
  previousWriteAt?: number
  /** Called at the start of `acquire`: lets a test act as another run finishing just then. */
  beforeAcquire?: (now: number) => void

  async acquire(owner: string, now: number, durationMs: number): Promise<LeaseAcquisition> {
    this.calls.push(`acquire ${owner}`)
    this.beforeAcquire?.(now)
    if (this.failAcquire) throw this.failAcquire
    if (this.holder && this.holder.owner !== owner && this.holder.expiresAt > now) {
      return { acquired: false, holder: this.holder.owner, expiresAt: this.holder.expiresAt }
    }
    this.holder = { owner, expiresAt: now + durationMs }
    return {
      acquired: true,
      expiresAt: now + durationMs,
      ...(this.previousWriteAt !== undefined && { previousWriteAt: this.previousWriteAt }),
    }
  }

  async renew(owner: string, now: number, durationMs: number): Promise<boolean> {
    this.calls.push(`renew ${owner}`)
    if (this.failRenew) throw this.failRenew
    if (this.holder?.owner !== owner) return false
    this.holder = { owner, expiresAt: now + durationMs }
    return true
  }

  async release(owner: string, now: number): Promise<void> {
    this.calls.push(`release ${owner}`)
    if (this.holder?.owner === owner) this.holder = { owner, expiresAt: now }
  }
}

/** A dead-letter destination in memory; `fail` makes every write throw. */
export class InMemoryDeadLetterSink implements DeadLetterSink {
  readonly destination = 'memory'
  readonly letters: DeadLetter[] = []
  fail?: Error

  async send(letter: DeadLetter): Promise<void> {
    if (this.fail) throw this.fail
    this.letters.push(letter)
  }

  async close(): Promise<void> {}
}

export class RecordingMetrics implements Metrics {
  readonly counts = new Map<string, number>()
  readonly measurements: Array<{
    name: string
    value: number
    unit: string
    dimensions?: Record<string, string>
  }> = []
  count(name: string, value: number) {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value)
  }
  measure(name: string, value: number, unit: string, dimensions?: Readonly<Record<string, string>>) {
    this.measurements.push({ name, value, unit, ...(dimensions && { dimensions: { ...dimensions } }) })
  }
}
