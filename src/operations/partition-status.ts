/**
 * Where each partition stands: its stored offset beside the topic's watermarks. Read-only;
 * used by `lkc status`, `lkc reset` (to show a plan) and `lkc doctor`.
 */

import type { StartPosition } from '../cycle/run-cycle.ts'
import type { KafkaSource, OffsetStore } from '../ports.ts'

export interface PartitionStatus {
  readonly partition: number
  /** The last offset processed, as stored; `null` when the partition has no item yet. */
  readonly storedOffset: number | null
  readonly logStartOffset: number
  readonly logEndOffset: number
  /** Messages not yet processed: from where the next run starts to the end. */
  readonly lag: number
  readonly lastSaved: string | null
  /** Why the partition's offsets are unknown now (no leader, or its leader does not answer); its log offsets then read 0. */
  readonly unavailable?: string
}

export async function readPartitionStatus(
  source: Pick<KafkaSource, 'partitions' | 'watermarks'>,
  offsets: Pick<OffsetStore, 'read'>,
  topic: string,
  startPosition: StartPosition,
): Promise<PartitionStatus[]> {
  const [stored, partitions] = await Promise.all([offsets.read(), source.partitions(topic)])
  const marks = await source.watermarks(topic, partitions)
  return partitions.map((partition) => {
    const item = stored.get(partition)
    const mark = marks.get(partition) ?? { logStartOffset: 0, endOffset: 0 }
    const unavailable = marks.unavailable?.get(partition)
    const next = item
      ? Math.max(item.offset + 1, mark.logStartOffset)
      : startPosition === 'earliest'
        ? mark.logStartOffset
        : mark.endOffset
    return {
      partition,
      storedOffset: item?.offset ?? null,
      logStartOffset: mark.logStartOffset,
      logEndOffset: mark.endOffset,
      lag: Math.max(0, mark.endOffset - next),
      lastSaved: item?.updatedAt ?? null,
      ...(unavailable !== undefined && { unavailable }),
    }
  })
}
