/**
 * A topic's layout as the source needs it: its id, each partition's leader, the brokers'
 * addresses, and the partitions that have no usable leader now, each with why.
 *
 * The client's metadata decoder throws (a `ResponseError`) for any partition-level error: one
 * partition without a leader (its only replica's broker is down) makes the whole topic's
 * metadata fail, and with it every run. The decoded answer is still on the error, so the layout
 * is read from it: the partitions with a leader are usable, the others are reported, never
 * guessed at. A topic-level error (the topic does not exist, access denied) is not a layout.
 */
import { type Broker, protocolErrorsCodesById } from '@platformatic/kafka'
import { errorsIn } from './connection-errors.ts'

export interface TopicLayout {
  readonly id: string
  /** The leader's node id, indexed by partition; -1 for a partition without one. */
  readonly leaders: readonly number[]
  /** Each broker's address, by node id. */
  readonly brokers: ReadonlyMap<number, Broker>
  /** The partitions without a usable leader, each with why (for logs and the run summary). */
  readonly leaderless: ReadonlyMap<number, string>
}

/** The client's own metadata, as `Consumer.metadata` resolves it. */
export interface ClientTopicMetadata {
  readonly id: string
  readonly partitions: ReadonlyArray<{ readonly leader: number; readonly replicas?: readonly number[] }>
}

/**
 * Partition errors that say the partition's leader is missing, moving or not answering for it:
 * the partition is left out (after one more try with fresh metadata); any other error fails the call.
 */
export const LEADER_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
])

/** Kafka's name for an error code, e.g. `LEADER_NOT_AVAILABLE` for 5. */
export function errorName(code: number): string {
  return protocolErrorsCodesById[code] ?? `error code ${code}`
}

const REPLICA_NOT_AVAILABLE = 9

export function layoutOf(
  metadata: ClientTopicMetadata,
  brokers: ReadonlyMap<number, { readonly host: string; readonly port: number }>,
): TopicLayout {
  const leaders = metadata.partitions.map((partition) => partition.leader)
  const leaderless = new Map<number, string>()
  for (const [partition, leader] of leaders.entries()) {
    if (leader < 0) leaderless.set(partition, 'no leader')
  }
  return { id: metadata.id, leaders, brokers: addresses(brokers), leaderless }
}

/**
 * The layout inside a failed metadata call, when only partitions failed: from the last answer
 * the client got (it retries a few times first). Undefined when the error is anything else.
 */
export function partialLayoutOf(error: unknown, topic: string): TopicLayout | undefined {
  const answers = errorsIn(error)
    .map((candidate) => metadataResponseOf(candidate))
    .filter((response) => response !== undefined)
  const response = answers.at(-1)
  const answer = response?.topics.find((candidate) => candidate.name === topic)
  if (response === undefined || answer === undefined || answer.errorCode !== 0) return undefined
  const leaders: number[] = []
  const leaderless = new Map<number, string>()
  for (const partition of answer.partitions) {
    const usable =
      partition.leaderId >= 0 && (partition.errorCode === 0 || partition.errorCode === REPLICA_NOT_AVAILABLE)
    leaders[partition.partitionIndex] = usable ? partition.leaderId : -1
    if (!usable) leaderless.set(partition.partitionIndex, describeLeaderless(partition))
  }
  const brokers = new Map(response.brokers.map((broker) => [broker.nodeId, broker] as const))
  return {
    id: answer.topicId ?? topic,
    leaders: Array.from(leaders, (leader) => leader ?? -1),
    brokers: addresses(brokers),
    leaderless,
  }
}

/** `no leader (LEADER_NOT_AVAILABLE): its only replica, on broker 2, is offline`, and the like. */
function describeLeaderless(partition: MetadataPartition): string {
  const cause = `no leader (${errorName(partition.errorCode)})`
  const replicas = partition.replicaNodes ?? []
  const offline = partition.offlineReplicas ?? []
  if (replicas.length === 0) return cause
  const list = replicas.join(', ')
  if (replicas.every((replica) => offline.includes(replica))) {
    return replicas.length === 1
      ? `${cause}: its only replica, on broker ${list}, is offline`
      : `${cause}: all its replicas, on brokers ${list}, are offline`
  }
  const inSync = partition.isrNodes ?? []
  return `${cause}: replicas on broker(s) ${list}, offline: ${offline.join(', ') || 'none'}, in sync: ${inSync.join(', ') || 'none'}`
}

function addresses(
  brokers: ReadonlyMap<number, { readonly host: string; readonly port: number }>,
): ReadonlyMap<number, Broker> {
  return new Map([...brokers].map(([nodeId, { host, port }]) => [nodeId, { host, port }] as const))
}

interface MetadataPartition {
  readonly errorCode: number
  readonly partitionIndex: number
  readonly leaderId: number
  readonly replicaNodes?: readonly number[]
  readonly isrNodes?: readonly number[]
  readonly offlineReplicas?: readonly number[]
}

interface MetadataResponse {
  readonly brokers: ReadonlyArray<{ readonly nodeId: number; readonly host: string; readonly port: number }>
  readonly topics: ReadonlyArray<{
    readonly errorCode: number
    readonly name: string | null
    /** Metadata v10 and later; before, the topic name stands for it. */
    readonly topicId?: string
    readonly partitions: readonly MetadataPartition[]
  }>
}

/** A Metadata answer carried by a client error, checked for the fields read here. */
function metadataResponseOf(error: unknown): MetadataResponse | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined
  const response: unknown = error.response
  if (typeof response !== 'object' || response === null) return undefined
  if (!('brokers' in response) || !Array.isArray(response.brokers)) return undefined
  if (!('topics' in response) || !Array.isArray(response.topics)) return undefined
  const wellFormed = response.topics.every(
    (topic: unknown) =>
      typeof topic === 'object' &&
      topic !== null &&
      'partitions' in topic &&
      Array.isArray(topic.partitions) &&
      'errorCode' in topic &&
      typeof topic.errorCode === 'number',
  )
  return wellFormed ? (response as MetadataResponse) : undefined
}
