/**
 * What a fetch returned beyond what the run consumed, kept for the next fetch of the same
 * partition, in this invocation or the next warm one. Without it, a run that stops at
 * MAX_MESSAGES (1000 by default) throws away most of each response (a producer's batch of
 * up to a megabyte per partition), and the next invocation fetches and decodes the same
 * megabytes again, every invocation (profile and figures in bench/README.md).
 *
 * A kept remainder is served only when the next fetch asks for an offset it covers, under the
 * same topic id (a recreated topic has a new one), and for at most `maxAgeMs`. Records at an
 * offset never change in Kafka, so serving them later is what the broker would have answered;
 * watermarks are not served (they would be stale): the cycle keeps those it read at the start.
 *
 * Memory: records are views of their fetch response, so a remainder keeps the whole response
 * alive. Remainders from at most `maxRounds` (8) fetch rounds are kept: memory stays bounded by
 * a few fetch sizes (16 MB per broker with the default FETCH_MAX_BYTES), never by the backlog.
 */
import type { FetchedPartition, FetchedRecord, FetchRequest } from '../ports.ts'

interface Remainder {
  readonly topicId: string
  /** The offset the fetch asked for: the remainder covers [from, lastOffset]. */
  readonly from: number
  readonly lastOffset: number
  /** The response as fetched: its records are built only if they are served. */
  readonly response: FetchedPartition
  readonly round: number
  readonly keptAt: number
}

export interface UnconsumedRecordsOptions {
  /** Oldest remainder served, in ms. */
  readonly maxAgeMs?: number
  /** Fetch rounds whose responses may be kept alive at once. */
  readonly maxRounds?: number
  readonly clock?: () => number
}

export class UnconsumedRecords {
  readonly #remainders = new Map<number, Remainder>()
  readonly #maxAgeMs: number
  readonly #maxRounds: number
  readonly #clock: () => number
  #round = 0

  constructor(options: UnconsumedRecordsOptions = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000
    this.#maxRounds = options.maxRounds ?? 8
    this.#clock = options.clock ?? Date.now
  }

  /**
   * The kept records of a partition from `fetchOffset` on, if a remainder covers it. A partition
   * this fetch does not ask for keeps its remainder: a round asks only for the partitions ready
   * for more (not those busy with a batch, nor more than its room), and the next round or the
   * next invocation asks for it again. Forgetting it there made a deep backlog at the default
   * MAX_MESSAGES fetch three times as often (38 fetches instead of 12 for 50 invocations on 8
   * partitions, bench/README.md). Old remainders go by age (`maxAgeMs`) and by round (`maxRounds`).
   */
  take(topicId: string, requests: readonly FetchRequest[]): Map<number, FetchedPartition> {
    const served = new Map<number, FetchedPartition>()
    const now = this.#clock()
    for (const { partition, fetchOffset } of requests) {
      const remainder = this.#remainders.get(partition)
      if (remainder === undefined) continue
      const usable =
        remainder.topicId === topicId &&
        now - remainder.keptAt <= this.#maxAgeMs &&
        fetchOffset >= remainder.from &&
        fetchOffset <= remainder.lastOffset
      if (!usable) {
        this.#remainders.delete(partition)
        continue
      }
      const records = remainder.response.records
      const first = firstAtOrAfter(records, fetchOffset)
      served.set(partition, {
        partition,
        records: first === 0 ? records : records.slice(first),
        lastOffset: remainder.lastOffset,
      })
    }
    return served
  }

  /** Keeps what the broker just returned, for a later fetch that does not consume it all now. */
  keep(topicId: string, requests: readonly FetchRequest[], fetched: readonly FetchedPartition[]): void {
    const round = ++this.#round
    const keptAt = this.#clock()
    const fromOf = new Map(requests.map((request) => [request.partition, request.fetchOffset]))
    for (const response of fetched) {
      const from = fromOf.get(response.partition)
      // `records` is not read here: the source builds them only when the cycle consumes them.
      if (from === undefined || response.offsetOutOfRange || response.lastOffset < from) {
        this.#remainders.delete(response.partition)
        continue
      }
      this.#remainders.set(response.partition, {
        topicId,
        from,
        lastOffset: response.lastOffset,
        response,
        round,
        keptAt,
      })
    }
    const oldestKept = round - this.#maxRounds + 1
    for (const [partition, remainder] of this.#remainders) {
      if (remainder.round < oldestKept) this.#remainders.delete(partition)
    }
  }

  clear(): void {
    this.#remainders.clear()
  }

  get size(): number {
    return this.#remainders.size
  }
}

/** Index of the first record at or after `offset` (records are in offset order). */
function firstAtOrAfter(records: readonly FetchedRecord[], offset: number): number {
  let low = 0
  let high = records.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (records[middle]!.offset < offset) low = middle + 1
    else high = middle
  }
  return low
}
