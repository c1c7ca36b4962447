/**
 * The Kafka source, on @platformatic/kafka, without a consumer group: metadata, list offsets,
 * and Fetch requests sent straight to each partition's leader. Offsets live in DynamoDB, so a
 * group would only add its join delay (seconds per cold start) and buy nothing.
 *
 * Owns: the client and its connections (kept across warm invocations), grouping partitions by
 * leader, read_committed filtering of aborted transactions, and turning client errors into
 * the project's own. Fetch responses are decoded by the lean decoder (`lean-fetch-consumer.ts`),
 * and what a run does not consume is kept for the next fetch (`unconsumed-records.ts`).
 */
import type {
  FetchedPartition,
  FetchedRecord,
  FetchRequest,
  KafkaSource,
  PartitionWatermarks,
} from '../ports.ts'
import { ConnectionErrorRecorder, securityErrorOf } from './connection-errors.ts'
import { baseClientOptions, type KafkaSecurity, PLAINTEXT_SECURITY } from './connection-options.ts'
import { KafkaUnavailableError, TopicNotFoundError } from './errors.ts'
import type {
  DecodedFetchPartition,
  DecodedFetchResponse,
  DecodedRecordBatch,
} from './fetch-response-decoder.ts'
import { asDecoded, LeanFetchConsumer } from './lean-fetch-consumer.ts'
import { UnconsumedRecords } from './unconsumed-records.ts'

const READ_COMMITTED = 1
const LATEST = -1n
const EARLIEST = -2n
const OFFSET_OUT_OF_RANGE = 1
/** Batch attribute bits (Kafka's record batch format v2). */
const IS_TRANSACTIONAL = 1 << 4
const IS_CONTROL = 1 << 5
const ABORT_MARKER = 0

export interface KafkaSourceOptions {
  readonly bootstrapServers: readonly string[]
  readonly clientId: string
  readonly requestTimeoutMs: number
  readonly fetchMaxBytes: number
  readonly fetchPartitionMaxBytes: number
  readonly fetchMaxWaitMs: number
  /** TLS and SASL (see connection-options.ts); default: PLAINTEXT. */
  readonly security?: KafkaSecurity
}

export interface TopicLayout {
  readonly id: string
  /** The leader's node id, indexed by partition. */
  readonly leaders: readonly number[]
}

export class PlatformaticKafkaSource implements KafkaSource {
  readonly #options: KafkaSourceOptions
  readonly #consumer: LeanFetchConsumer
  readonly #layouts = new Map<string, TopicLayout>()
  readonly #security: KafkaSecurity
  readonly #connectionErrors: ConnectionErrorRecorder
  /** Topics whose leaders must be asked again, past the client's own metadata cache (a fetch failed). */
  readonly #stale = new Set<string>()
  /** Records fetched but not yet consumed, served to the next fetch that asks for them. */
  readonly #unconsumed = new UnconsumedRecords()

  constructor(options: KafkaSourceOptions) {
    this.#options = options
    this.#security = options.security ?? PLAINTEXT_SECURITY
    this.#consumer = new LeanFetchConsumer({
      ...baseClientOptions({ ...options, security: this.#security }),
      // Required by the client's type; never used: no group is joined and nothing is committed to Kafka.
      groupId: `${options.clientId}-no-group`,
      isolationLevel: READ_COMMITTED,
      minBytes: 1,
      maxBytes: options.fetchMaxBytes,
      maxWaitTime: options.fetchMaxWaitMs,
    })
    this.#connectionErrors = new ConnectionErrorRecorder(this.#consumer)
  }

  async partitions(topic: string): Promise<number[]> {
    const layout = await this.#layout(topic, true)
    return layout.leaders.map((_, partition) => partition)
  }

  async watermarks(topic: string, partitions: readonly number[]): Promise<Map<number, PartitionWatermarks>> {
    const request = { topics: [topic], partitions: { [topic]: [...partitions] } }
    const [earliest, latest] = await this.#call('list offsets', () =>
      Promise.all([
        this.#consumer.listOffsets({ ...request, timestamp: EARLIEST }),
        this.#consumer.listOffsets({ ...request, timestamp: LATEST, isolationLevel: READ_COMMITTED }),
      ]),
    )
    const starts = earliest.get(topic) ?? []
    const ends = latest.get(topic) ?? []
    const marks = new Map<number, PartitionWatermarks>()
    for (const partition of partitions) {
      marks.set(partition, {
        logStartOffset: Number(starts[partition] ?? 0n),
        endOffset: Number(ends[partition] ?? 0n),
      })
    }
    return marks
  }

  /** Each partition's first offset with a timestamp at or after `timestampMs` (its end when none). */
  async offsetsAtTime(
    topic: string,
    partitions: readonly number[],
    timestampMs: number,
  ): Promise<Map<number, number>> {
    const found = await this.#call('list offsets by time', () =>
      this.#consumer.listOffsets({
        topics: [topic],
        partitions: { [topic]: [...partitions] },
        timestamp: BigInt(timestampMs),
      }),
    )
    const offsets = found.get(topic) ?? []
    const ends = await this.watermarks(topic, partitions)
    return new Map(
      partitions.map((partition) => {
        const offset = offsets[partition]
        const end = ends.get(partition)?.endOffset ?? 0
        return [partition, offset === undefined || offset < 0n ? end : Number(offset)]
      }),
    )
  }

  async fetch(topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]> {
    // After a failed fetch (a broker restarting, a leader moving), the leaders are looked up afresh.
    const layout = await this.#layout(topic, this.#stale.has(topic))
    const served = this.#unconsumed.take(layout.id, requests)
    const toFetch =
      served.size === 0 ? requests : requests.filter((request) => !served.has(request.partition))
    if (toFetch.length === 0) return [...served.values()]
    const byLeader = new Map<number, FetchRequest[]>()
    for (const request of toFetch) {
      const leader = layout.leaders[request.partition] ?? -1
      const group = byLeader.get(leader) ?? []
      group.push(request)
      byLeader.set(leader, group)
    }
    const responses = await Promise.all(
      [...byLeader].map(([leader, group]) => this.#fetchFromLeader(topic, layout, leader, group)),
    )
    const fetched = responses.flat()
    this.#unconsumed.keep(layout.id, toFetch, fetched)
    return served.size === 0 ? fetched : [...served.values(), ...fetched]
  }

  async close(): Promise<void> {
    this.#unconsumed.clear()
    await this.#consumer.close(true)
  }

  async #fetchFromLeader(
    topic: string,
    layout: TopicLayout,
    leader: number,
    requests: readonly FetchRequest[],
  ): Promise<FetchedPartition[]> {
    const fetchOffsets = new Map(requests.map((request) => [request.partition, request.fetchOffset]))
    const options = {
      node: leader,
      topics: [
        {
          topicId: layout.id,
          partitions: requests.map((request) => ({
            partition: request.partition,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(request.fetchOffset),
            lastFetchedEpoch: -1,
            partitionMaxBytes: this.#options.fetchPartitionMaxBytes,
          })),
        },
      ],
    }
    let response: DecodedFetchResponse
    const started = Date.now()
    try {
      response = await this.#consumer.fetchDecoded(options)
    } catch (error) {
      // A partition whose offset left the log fails the whole request; the others' data is in the response.
      const partial = outOfRangeResponse(error)
      if (partial === undefined) {
        this.#stale.add(topic)
        throw this.#failure('fetch', error, started)
      }
      response = partial
    }
    const fetched: FetchedPartition[] = []
    for (const topicResponse of response.responses) {
      for (const partitionResponse of topicResponse.partitions) {
        const fetchOffset = fetchOffsets.get(partitionResponse.partitionIndex)
        if (fetchOffset === undefined) continue
        if (partitionResponse.errorCode === OFFSET_OUT_OF_RANGE) {
          const [logStartOffset] = await this.#call('list offsets', () =>
            this.#listOne(topic, partitionResponse.partitionIndex),
          )
          fetched.push({
            partition: partitionResponse.partitionIndex,
            records: [],
            lastOffset: fetchOffset - 1,
            offsetOutOfRange: true,
            watermarks: logStartOffset,
          })
          continue
        }
        fetched.push(toFetchedPartition(partitionResponse, fetchOffset))
      }
    }
    return fetched
  }

  async #listOne(topic: string, partition: number): Promise<[PartitionWatermarks]> {
    const marks = await this.watermarks(topic, [partition])
    return [marks.get(partition) ?? { logStartOffset: 0, endOffset: 0 }]
  }

  /** The topic's id and each partition's leader, fresh from the cluster (for `lkc doctor`). */
  layout(topic: string): Promise<TopicLayout> {
    return this.#layout(topic, true)
  }

  async #layout(topic: string, refresh: boolean): Promise<TopicLayout> {
    const cached = this.#layouts.get(topic)
    if (cached !== undefined && !refresh) return cached
    const metadata = await this.#call('metadata', () =>
      this.#consumer.metadata({ topics: [topic], forceUpdate: refresh }),
    ).catch((error: unknown) => {
      if (error instanceof KafkaUnavailableError && /unknown topic/i.test(detailOf(error.cause))) {
        throw new TopicNotFoundError(topic, this.#options.bootstrapServers, error.cause)
      }
      throw error
    })
    const topicMetadata = metadata.topics.get(topic)
    if (topicMetadata === undefined) throw new TopicNotFoundError(topic, this.#options.bootstrapServers)
    const layout = {
      id: topicMetadata.id,
      leaders: topicMetadata.partitions.map((partition) => partition.leader),
    }
    this.#layouts.set(topic, layout)
    this.#stale.delete(topic)
    return layout
  }

  async #call<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const started = Date.now()
    try {
      return await call()
    } catch (error) {
      throw this.#failure(operation, error, started)
    }
  }

  /** An authentication or TLS error when that is what happened, else Kafka being unavailable. */
  #failure(operation: string, error: unknown, started: number): Error {
    return (
      securityErrorOf(
        error,
        this.#security.auth,
        this.#options.bootstrapServers,
        this.#connectionErrors.since(started),
      ) ?? new KafkaUnavailableError(operation, this.#options.bootstrapServers, detailOf(error), error)
    )
  }
}

/** The response inside a Fetch error when every failed partition is only out of range. */
function outOfRangeResponse(error: unknown): DecodedFetchResponse | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined
  const clientResponse = (error as { response?: Parameters<typeof asDecoded>[0] }).response
  if (clientResponse === undefined) return undefined
  const response = asDecoded(clientResponse)
  if (response.errorCode !== 0) return undefined
  const failed = response.responses.flatMap((topic) => topic.partitions).filter((p) => p.errorCode !== 0)
  return failed.length > 0 && failed.every((p) => p.errorCode === OFFSET_OUT_OF_RANGE) ? response : undefined
}

/**
 * One partition's records from `fetchOffset` on. The offsets the response covers are known at
 * once, from the batch headers; the records are built when the cycle first reads them (see
 * `LazyRecordBatch`), so only the partition being processed holds record objects.
 */
function toFetchedPartition(response: DecodedFetchPartition, fetchOffset: number): FetchedPartition {
  let lastOffset = fetchOffset - 1
  const aborted = new AbortedTransactions(response.abortedTransactions)
  const batches: DecodedRecordBatch[] = []
  for (const batch of response.records ?? []) {
    if (batch.lastOffset < fetchOffset) continue
    if (batch.lastOffset > lastOffset) lastOffset = batch.lastOffset
    if (!aborted.skips(batch)) batches.push(batch)
  }
  const watermarks =
    response.lastStableOffset >= 0n
      ? { logStartOffset: Number(response.logStartOffset), endOffset: Number(response.lastStableOffset) }
      : undefined
  return new LazyFetchedPartition(response.partitionIndex, batches, fetchOffset, lastOffset, watermarks)
}

class LazyFetchedPartition implements FetchedPartition {
  readonly partition: number
  readonly lastOffset: number
  readonly watermarks?: PartitionWatermarks
  readonly #batches: readonly DecodedRecordBatch[]
  readonly #fetchOffset: number
  #records: FetchedRecord[] | undefined

  constructor(
    partition: number,
    batches: readonly DecodedRecordBatch[],
    fetchOffset: number,
    lastOffset: number,
    watermarks: PartitionWatermarks | undefined,
  ) {
    this.partition = partition
    this.#batches = batches
    this.#fetchOffset = fetchOffset
    this.lastOffset = lastOffset
    if (watermarks !== undefined) this.watermarks = watermarks
  }

  get records(): readonly FetchedRecord[] {
    this.#records ??= recordsFrom(this.#batches, this.#fetchOffset)
    return this.#records
  }
}

function recordsFrom(batches: readonly DecodedRecordBatch[], fetchOffset: number): FetchedRecord[] {
  const only = batches.length === 1 ? batches[0]!.records : undefined
  if (only !== undefined && (only[0]?.offset ?? fetchOffset) >= fetchOffset) return only // the usual case: no copy
  const records: FetchedRecord[] = []
  for (const batch of batches) {
    for (const record of batch.records) if (record.offset >= fetchOffset) records.push(record)
  }
  return records
}

/**
 * read_committed filtering, as Kafka's Java consumer does it: a transactional batch is skipped
 * from its producer's aborted-transaction first offset up to that producer's abort marker.
 * Control batches (commit and abort markers) never reach the processor.
 */
class AbortedTransactions {
  readonly #pending: Array<{ producerId: bigint; firstOffset: bigint }>
  readonly #abortedProducers = new Set<bigint>()

  constructor(list: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }> | null) {
    this.#pending = [...(list ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
  }

  skips(batch: DecodedRecordBatch): boolean {
    if (
      this.#pending.length === 0 &&
      this.#abortedProducers.size === 0 &&
      (batch.attributes & IS_CONTROL) === 0
    ) {
      return false
    }
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    while (this.#pending.length > 0 && this.#pending[0]!.firstOffset <= lastOffset) {
      this.#abortedProducers.add(this.#pending.shift()!.producerId)
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      const marker = batch.records[0]?.key
      if (marker && marker.length >= 4 && marker.readInt16BE(2) === ABORT_MARKER) {
        this.#abortedProducers.delete(batch.producerId)
      }
      return true
    }
    return (batch.attributes & IS_TRANSACTIONAL) !== 0 && this.#abortedProducers.has(batch.producerId)
  }
}

/** The most specific message in a client error: nested errors and causes included. */
export function detailOf(error: unknown): string {
  const messages: string[] = []
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || !(value instanceof Error)) return
    if (value.message && !messages.includes(value.message)) messages.push(value.message)
    if (value instanceof AggregateError) for (const inner of value.errors) visit(inner, depth + 1)
    visit(value.cause, depth + 1)
  }
  visit(error, 0)
  if (messages.length === 0) return String(error)
  // The innermost message usually names the real cause (ECONNREFUSED, an auth failure).
  return messages.length === 1 ? messages[0]! : `${messages[messages.length - 1]} (${messages[0]})`
}
