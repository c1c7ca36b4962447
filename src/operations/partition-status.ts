/**
 * Where each partition stands: its stored offset beside the topic's watermarks, and where the
 * next run starts, decided by the run's own code (`readStarts`, `decideStart`), so that what
 * `lkc status`, `lkc reset` (to show a plan) and `lkc cost` show is what the run does. Read-only.
 */
import { decideStart } from '../cycle/partition-state.ts'
import { readStarts } from '../cycle/read-starts.ts'
import type { OffsetMismatch, StartPosition } from '../cycle/types.ts'
import type { KafkaSource, OffsetStore } from '../ports.ts'

export interface PartitionStatus {
  readonly partition: number
  /** The last offset processed, as stored; `null` when the partition has no item yet. */
  readonly storedOffset: number | null
  readonly logStartOffset: number
  readonly logEndOffset: number
  /**
   * Messages not yet processed: from where the next run starts to the end. For a partition
   * stopped on a mismatch, its whole log; 0 for one without a leader (unknown).
   */
  readonly lag: number
  /** Where the next run starts; `null` when it does not (no leader, or a mismatch waiting for `lkc reset`). */
  readonly nextOffset: number | null
  readonly lastSaved: string | null
  /** Why the partition's offsets are unknown now (no leader, or its leader does not answer); its log offsets then read 0. */
  readonly unavailable?: string
  /** Its stored offset does not fit the log: no run consumes it until `lkc reset`. */
  readonly mismatch?: OffsetMismatch
}

export interface TopicStatus {
  /** The topic's id now, when the cluster gives ids. */
  readonly topicId?: string
  readonly partitions: readonly PartitionStatus[]
}

export async function readTopicStatus(
  source: Pick<KafkaSource, 'partitions' | 'watermarks' | 'offsetsAtTime'>,
  offsets: Pick<OffsetStore, 'read'>,
  topic: string,
  startPosition: StartPosition,
): Promise<TopicStatus> {
  const stored = offsets.read()
  stored.catch(() => {})
  const topicPartitions = await source.partitions(topic)
  const read = await readStarts(source, stored, topic, topicPartitions, topicPartitions, startPosition)
  const partitions = topicPartitions.map((partition): PartitionStatus => {
    const item = read.stored.get(partition)
    const saved = { storedOffset: item?.offset ?? null, lastSaved: item?.updatedAt ?? null }
    const start = read.starts.get(partition)!
    if (start.kind === 'unavailable') {
      return {
        partition,
        ...saved,
        logStartOffset: 0,
        logEndOffset: 0,
        lag: 0,
        nextOffset: null,
        unavailable: start.reason,
      }
    }
    const { logStartOffset = 0, endOffset: logEndOffset = 0 } = start.inputs.marks ?? {}
    const decision = decideStart(start.inputs)
    if (decision.kind === 'mismatch') {
      return {
        partition,
        ...saved,
        logStartOffset,
        logEndOffset,
        lag: logEndOffset - logStartOffset,
        nextOffset: null,
        mismatch: decision.mismatch,
      }
    }
    // An offset deleted by retention: shown resuming at the log start (OFFSET_OUT_OF_RANGE_POLICY's default).
    const nextOffset = Math.max(decision.position, logStartOffset)
    return {
      partition,
      ...saved,
      logStartOffset,
      logEndOffset,
      lag: Math.max(0, logEndOffset - nextOffset),
      nextOffset,
    }
  })
  return { ...(topicPartitions.topicId !== undefined && { topicId: topicPartitions.topicId }), partitions }
}
