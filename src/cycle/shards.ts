/**
 * Partition shards: scale-out past one function. With SHARD_COUNT = N, N functions (each on
 * its own schedule) share a topic, and shard i owns the partitions p with p % N == i. Every
 * shard keeps its offsets under the same `consumer_id`, one item per partition, so changing
 * N later keeps every partition's progress. What a shard does not own, it neither fetches nor
 * writes; a lease, when there is one, is taken per shard.
 */

export interface Shard {
  /** How many shards share the topic (1: one function owns every partition). */
  readonly count: number
  /** This shard, from 0 to count - 1. */
  readonly index: number
}

/** The partitions this shard owns, in the order given. */
export function ownedPartitions(partitions: readonly number[], shard: Shard | undefined): number[] {
  if (shard === undefined || shard.count <= 1) return [...partitions]
  return partitions.filter((partition) => partition % shard.count === shard.index)
}
