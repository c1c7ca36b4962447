/**
 * In-memory fakes behind the cycle's interfaces, for unit tests: a Kafka topic with
 * partitions of records, an offsets table with conditional writes, and a logger that keeps
 * what it was told.
 */
import type {
  FetchedPartition,
  FetchedRecord,
  FetchRequest,
  KafkaSource,
  LogAttributes,
  Logger,
  OffsetStore,
  OffsetWrite,
  OffsetWriteResult,
  PartitionWatermarks,
  StoredOffset,
} from '../../src/cycle/ports.ts'

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
  /** Thrown by the nth fetch (1-based) and every one after it: a broker going away mid-run. */
  failFetch?: { at: number; error: Error }
  topicExists = true
  /** Fetches return nothing at all, although the watermarks say there is more (a stuck broker). */
  stalled = false

  /** A partition holding `count` JSON records from `logStartOffset`. */
  addPartition(partition: number, count: number, logStartOffset = 0): FakePartition {
    const records = Array.from({ length: count }, (_, index) =>
      record(logStartOffset + index, JSON.stringify({ partition, index: logStartOffset + index })),
    )
    const state = { records, logStartOffset, endOffset: logStartOffset + count }
    this.partitionsOf.set(partition, state)
    return state
  }

  async partitions(topic: string): Promise<number[]> {
    if (!this.topicExists) throw new Error(`Topic "${topic}" does not exist`)
    return [...this.partitionsOf.keys()].sort((a, b) => a - b)
  }

  async watermarks(_topic: string, partitions: readonly number[]): Promise<Map<number, PartitionWatermarks>> {
    return new Map(
      partitions.map((partition) => {
        const state = this.partitionsOf.get(partition)!
        return [partition, { logStartOffset: state.logStartOffset, endOffset: state.endOffset }]
      }),
    )
  }

  async fetch(_topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]> {
    this.fetches.push([...requests])
    if (this.failFetch && this.fetches.length >= this.failFetch.at) throw this.failFetch.error
    return requests.map(({ partition, fetchOffset }) => {
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
  reads = 0
  /** Called before each write: lets a test change an item behind the run's back. */
  beforeWrite?: (write: OffsetWrite) => void
  failSave?: Error

  async read(): Promise<Map<number, StoredOffset>> {
    this.reads++
    return new Map(this.items)
  }

  async save(writes: readonly OffsetWrite[]): Promise<OffsetWriteResult[]> {
    this.saves.push([...writes])
    if (this.failSave) throw this.failSave
    return writes.map((write) => {
      this.beforeWrite?.(write)
      const current = this.items.get(write.partition)?.offset
      if (current !== write.expected || (current !== undefined && write.offset <= current)) {
        return { partition: write.partition, status: 'conflict' as const, current }
      }
      this.items.set(write.partition, { offset: write.offset, updatedAt: new Date().toISOString() })
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
