/**
 * The Kafka source, on @platformatic/kafka, without a consumer group: metadata, list offsets,
 * and Fetch requests sent straight to each partition's leader. Offsets live in DynamoDB, so a
 * group would only add its join delay (seconds per cold start) and buy nothing.
 *
 * Owns: the client and its connections (kept across warm invocations), grouping partitions by
 * leader, read_committed filtering of aborted transactions, and turning client errors into
 * the project's own. Fetch responses are decoded by the lean decoder (`lean-fetch-consumer.ts`),
 * and what a run does not consume is kept for the next fetch (`unconsumed-records.ts`).
 *
 * One partition without a leader, or one leader failing, must not stop the whole topic: the
 * layout is read even when some partitions have no leader (topic-layout.ts), offsets are listed
 * from each leader on its own, and a fetch round keeps what the other leaders returned. Those
 * partitions are reported (`unavailable`, with why) for the run to leave out.
 */
import { ProtocolError, protocolErrorsCodesById } from '@platformatic/kafka'
import type {
  FetchedPartition,
  FetchedRecord,
  FetchRequest,
  KafkaSource,
  PartitionWatermarks,
  TopicPartitions,
} from '../ports.ts'
import { ConnectionErrorRecorder, securityErrorOf } from './connection-errors.ts'
import { baseClientOptions, type KafkaSecurity, PLAINTEXT_SECURITY } from './connection-options.ts'
import { KafkaUnavailableError, TopicNotFoundError } from './errors.ts'
import type {
  DecodedFetchPartition,
  DecodedFetchResponse,
  DecodedRecordBatch,
} from './fetch-response-decoder.ts'
import { asDecoded, LeanFetchConsumer, type ListedOffset } from './lean-fetch-consumer.ts'
import { errorName, LEADER_ERRORS, layoutOf, partialLayoutOf, type TopicLayout } from './topic-layout.ts'
import { UnconsumedRecords } from './unconsumed-records.ts'

export type { TopicLayout } from './topic-layout.ts'

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

  async partitions(topic: string): Promise<TopicPartitions> {
    const layout = await this.#layout(topic, true)
    const partitions = layout.leaders.map((_, partition) => partition)
    const topicId = topicIdOf(layout.id)
    return topicId === undefined ? partitions : Object.assign(partitions, { topicId })
  }

  async watermarks(
    topic: string,
    partitions: readonly number[],
  ): Promise<Map<number, PartitionWatermarks> & { readonly unavailable: ReadonlyMap<number, string> }> {
    const { offsets, unavailable } = await this.#listOffsets(topic, partitions, [EARLIEST, LATEST])
    const marks = new Map<number, PartitionWatermarks>()
    for (const [partition, [start = 0n, end = 0n]] of offsets) {
      marks.set(partition, { logStartOffset: Number(start), endOffset: Number(end) })
    }
    return Object.assign(marks, { unavailable })
  }

  /**
   * Each partition's first offset with a timestamp at or after `timestampMs` (its end when none).
   * A partition without a leader is left out and listed in `unavailable`, as for the watermarks.
   */
  async offsetsAtTime(
    topic: string,
    partitions: readonly number[],
    timestampMs: number,
  ): Promise<Map<number, number> & { readonly unavailable: ReadonlyMap<number, string> }> {
    const { offsets, unavailable } = await this.#listOffsets(topic, partitions, [BigInt(timestampMs), LATEST])
    const atTime = new Map(
      [...offsets].map(([partition, [found = -1n, end = 0n]]) => [
        partition,
        found < 0n ? Number(end) : Number(found),
      ]),
    )
    return Object.assign(atTime, { unavailable })
  }

  /**
   * `timestamps`' offsets for each partition, from its leader. A partition whose leader is
   * missing, or answers with a leader error (it moved), is asked once more with fresh metadata,
   * then reported in `unavailable`. Fails as a whole only when no leader answered at all (Kafka
   * unreachable), or for an error no partition can be left out for (credentials, ACLs).
   */
  async #listOffsets(
    topic: string,
    partitions: readonly number[],
    timestamps: readonly bigint[],
  ): Promise<{ offsets: Map<number, bigint[]>; unavailable: Map<number, string> }> {
    const started = Date.now()
    const offsets = new Map<number, bigint[]>()
    const first = await this.#listFromLeaders(topic, await this.#layout(topic, false), partitions, timestamps)
    for (const [partition, listed] of first.offsets) offsets.set(partition, listed)
    const leaderless = new Map(first.leaderless)
    let { failed } = first
    let answered = first.answered
    let errors = first.errors
    if (failed.size > 0) {
      const again = await this.#listFromLeaders(
        topic,
        await this.#layout(topic, true),
        [...failed.keys()],
        timestamps,
      )
      for (const [partition, listed] of again.offsets) offsets.set(partition, listed)
      for (const [partition, reason] of again.leaderless) leaderless.set(partition, reason)
      failed = again.failed
      answered += again.answered
      errors = again.errors
    }
    if (answered === 0 && errors.length > 0) throw this.#failure('list offsets', errors[0], started)
    return { offsets, unavailable: new Map([...leaderless, ...failed]) }
  }

  async #listFromLeaders(
    topic: string,
    layout: TopicLayout,
    partitions: readonly number[],
    timestamps: readonly bigint[],
  ): Promise<{
    offsets: Map<number, bigint[]>
    /** From the layout: no leader. */
    leaderless: Map<number, string>
    /** The leader failed, or refused the partition. */
    failed: Map<number, string>
    answered: number
    errors: unknown[]
  }> {
    const started = Date.now()
    const offsets = new Map<number, bigint[]>()
    const leaderless = new Map<number, string>()
    const failed = new Map<number, string>()
    const errors: unknown[] = []
    const byLeader = new Map<number, number[]>()
    for (const partition of partitions) {
      const leader = layout.leaders[partition]
      if (leader === undefined) {
        leaderless.set(partition, `not in the topic's metadata (${layout.leaders.length} partitions)`)
      } else if (leader < 0) {
        leaderless.set(partition, layout.leaderless.get(partition) ?? 'no leader')
      } else {
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition])
      }
    }
    let answered = 0
    await Promise.all(
      [...byLeader].map(async ([leader, group]) => {
        const broker = layout.brokers.get(leader)
        if (broker === undefined) {
          for (const partition of group)
            failed.set(partition, `its leader, broker ${leader}, is not among the cluster's brokers`)
          return
        }
        const at = `broker ${leader} (${broker.host}:${broker.port})`
        let answers: Array<Map<number, ListedOffset>>
        try {
          answers = await Promise.all(
            timestamps.map((timestamp) =>
              this.#consumer.listOffsetsFrom(broker, topic, group, timestamp, READ_COMMITTED),
            ),
          )
        } catch (error) {
          const security = securityErrorOf(
            error,
            this.#security.auth,
            this.#options.bootstrapServers,
            this.#connectionErrors.since(started),
          )
          if (security !== undefined) throw security
          errors.push(error)
          for (const partition of group)
            failed.set(partition, `its leader, ${at}, did not answer: ${detailOf(error)}`)
          return
        }
        answered++
        for (const partition of group) {
          const listed: bigint[] = []
          for (const answer of answers) {
            const result = answer.get(partition)
            if (result === undefined) {
              failed.set(partition, `its leader, ${at}, did not list it`)
            } else if ('errorCode' in result) {
              const name = errorName(result.errorCode)
              // Credentials, ACLs and the like are the run's to report, not a partition's to skip.
              if (!LEADER_ERRORS.has(name))
                throw this.#failure('list offsets', protocolError(result.errorCode), started)
              failed.set(partition, `its leader, ${at}, answered ${name}`)
            } else {
              listed.push(result.offset)
            }
          }
          if (!failed.has(partition)) offsets.set(partition, listed)
        }
      }),
    )
    return { offsets, leaderless, failed, answered, errors }
  }

  async fetch(topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]> {
    // After a failed fetch (a broker restarting, a leader moving), the leaders are looked up afresh.
    const layout = await this.#layout(topic, this.#stale.has(topic))
    const served = this.#unconsumed.take(layout.id, requests)
    const toFetch =
      served.size === 0 ? requests : requests.filter((request) => !served.has(request.partition))
    if (toFetch.length === 0) return [...served.values()]
    const byLeader = new Map<number, FetchRequest[]>()
    const unavailable: FetchedPartition[] = []
    for (const request of toFetch) {
      const leader = layout.leaders[request.partition] ?? -1
      if (leader < 0) {
        const reason = layout.leaderless.get(request.partition) ?? "no leader in the topic's metadata"
        unavailable.push({
          partition: request.partition,
          records: [],
          lastOffset: request.fetchOffset - 1,
          unavailable: reason,
        })
        continue
      }
      const group = byLeader.get(leader) ?? []
      group.push(request)
      byLeader.set(leader, group)
    }
    const outcomes = await Promise.allSettled(
      [...byLeader].map(([leader, group]) => this.#fetchFromLeader(topic, layout, leader, group)),
    )
    const fetched: FetchedPartition[] = []
    const failures: unknown[] = []
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') fetched.push(...outcome.value)
      else failures.push(outcome.reason)
    }
    // Credentials or TLS are wrong for every broker alike; and a round in which no leader
    // answered is Kafka failing: the run retries or ends, as it always did. One leader failing
    // while others answered only leaves its partitions out of this round.
    const security = failures.find((failure) => !(failure instanceof KafkaUnavailableError))
    if (security !== undefined) throw security
    if (failures.length > 0 && failures.length === outcomes.length) throw failures[0]
    this.#unconsumed.keep(layout.id, toFetch, fetched)
    return [...served.values(), ...fetched, ...unavailable]
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
          const partition = partitionResponse.partitionIndex
          const marks = await this.watermarks(topic, [partition])
          const watermarks = marks.get(partition)
          fetched.push(
            watermarks === undefined
              ? {
                  partition,
                  records: [],
                  lastOffset: fetchOffset - 1,
                  unavailable: marks.unavailable.get(partition) ?? 'its offsets could not be listed',
                }
              : { partition, records: [], lastOffset: fetchOffset - 1, offsetOutOfRange: true, watermarks },
          )
          continue
        }
        fetched.push(toFetchedPartition(partitionResponse, fetchOffset))
      }
    }
    return fetched
  }

  /** The topic's id and each partition's leader, fresh from the cluster (for `lkc doctor`). */
  layout(topic: string): Promise<TopicLayout> {
    return this.#layout(topic, true)
  }

  async #layout(topic: string, refresh: boolean): Promise<TopicLayout> {
    const cached = this.#layouts.get(topic)
    if (cached !== undefined && !refresh) return cached
    const started = Date.now()
    let layout: TopicLayout
    try {
      const metadata = await this.#consumer.metadata({ topics: [topic], forceUpdate: refresh })
      const topicMetadata = metadata.topics.get(topic)
      if (topicMetadata === undefined) throw new TopicNotFoundError(topic, this.#options.bootstrapServers)
      layout = layoutOf(topicMetadata, metadata.brokers)
    } catch (error) {
      if (error instanceof TopicNotFoundError) throw error
      const partial = partialLayoutOf(error, topic)
      if (partial === undefined) {
        const failure = this.#failure('metadata', error, started)
        if (failure instanceof KafkaUnavailableError && /unknown topic/i.test(detailOf(error))) {
          throw new TopicNotFoundError(topic, this.#options.bootstrapServers, error)
        }
        throw failure
      }
      // The client kept none of this answer, and may still hold an older one for the topic,
      // whose leaders its fetch would prefer to the ones asked for: let it forget the topic.
      this.#consumer.clearMetadata()
      layout = partial
    }
    this.#layouts.set(topic, layout)
    this.#stale.delete(topic)
    return layout
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const NO_ID = '00000000-0000-0000-0000-000000000000'

/**
 * A topic id worth storing: Kafka's UUID. Before Metadata v10 the client stands the topic's name
 * in for it, and a cluster without ids sends the zero UUID: neither tells a re-created topic apart.
 */
function topicIdOf(id: string): string | undefined {
  return UUID.test(id) && id !== NO_ID ? id : undefined
}

/** The client's error for a partition error code, for `securityErrorOf` to read (an unknown code: a plain Error). */
function protocolError(code: number): Error {
  return protocolErrorsCodesById[code] === undefined
    ? new Error(`Kafka error code ${code}`)
    : new ProtocolError(code)
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
