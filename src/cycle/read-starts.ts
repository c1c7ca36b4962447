/**
 * What each partition's start is decided from, read in one place for the run and for
 * `lkc status` and `lkc reset`, so that what they show is what the next run does: the stored
 * offsets (with the consumer's start record) beside the topic's watermarks; the topic's id
 * against the ids the offsets were saved for; and, for partitions that start at
 * START_POSITION=timestamp, their offsets at that time (one more ListOffsets, made only then).
 * The decision itself is `decideStart` (partition-state.ts).
 */
import type { KafkaSource, StoredOffsets, TopicPartitions, TopicWatermarks } from '../ports.ts'
import { isFirstRun, isRecreated, type StartInputs } from './partition-state.ts'
import type { StartPosition } from './types.ts'

/** One partition: what its start is decided from, or why it cannot be consumed now (no leader). */
export type PartitionStart =
  | { readonly kind: 'start'; readonly inputs: StartInputs }
  | { readonly kind: 'unavailable'; readonly reason: string }

export interface StartsRead {
  readonly stored: StoredOffsets
  readonly watermarks: TopicWatermarks
  /** Every partition asked for, in the order asked. */
  readonly starts: ReadonlyMap<number, PartitionStart>
}

export async function readStarts(
  source: Pick<KafkaSource, 'watermarks' | 'offsetsAtTime'>,
  stored: Promise<StoredOffsets>,
  topic: string,
  topicPartitions: TopicPartitions,
  partitions: readonly number[],
  startPosition: StartPosition,
): Promise<StartsRead> {
  const [offsets, watermarks] = await Promise.all([stored, source.watermarks(topic, partitions)])
  const { topicId } = topicPartitions
  const recreated = isRecreated(offsets, topicId)
  const firstRun = (partition: number) => !offsets.has(partition) && isFirstRun(partition, offsets)
  const timestampMs = typeof startPosition === 'object' ? startPosition.timestampMs : undefined
  const byTime =
    timestampMs === undefined
      ? []
      : partitions.filter((partition) => firstRun(partition) && !watermarks.unavailable?.has(partition))
  const atTime = byTime.length === 0 ? undefined : await source.offsetsAtTime(topic, byTime, timestampMs!)
  const starts = new Map<number, PartitionStart>()
  for (const partition of partitions) {
    const unavailable = watermarks.unavailable?.get(partition) ?? atTime?.unavailable?.get(partition)
    if (unavailable !== undefined) {
      starts.set(partition, { kind: 'unavailable', reason: unavailable })
      continue
    }
    const offsetAtTime = atTime?.get(partition)
    starts.set(partition, {
      kind: 'start',
      inputs: {
        item: offsets.get(partition),
        marks: watermarks.get(partition),
        firstRun: firstRun(partition),
        startPosition,
        ...(offsetAtTime !== undefined && { offsetAtTime }),
        ...(topicId !== undefined && { topicId }),
        recreated,
      },
    })
  }
  return { stored: offsets, watermarks, starts }
}
