/**
 * What each partition has in hand, and what the run fetches next. Partitions are delivered
 * side by side, each in offset order, one batch at a time; this module feeds them.
 *
 * Fetching is in rounds, one round at a time (a broker's fetch session takes one request at
 * a time): a round asks for every partition ready for more, each from its leader, and hands
 * each partition what the round brought for it as a batch. A partition holds at most two
 * batches: the one being delivered and the next, read ahead while it is (once no partition
 * with nothing in hand is waiting for a first batch). The read-ahead is
 * exact: it asks for the offset right after the batch in hand, so a partition's batches
 * always follow on; one that does not (it cannot happen, but it is cheap to check) is
 * dropped and fetched again.
 *
 * The budget: MAX_MESSAGES bounds the whole run. Each batch sets its share of what is left
 * aside when it arrives (split between the partitions the round brought something for), so
 * partitions delivered at the same time never take more than the run may, and a batch only
 * ever delivers what it set aside. A partition whose batch was cut to its share fetches
 * again only once that batch is done with (where it ends is known then).
 *
 * Memory: a batch is at most FETCH_PARTITION_MAX_BYTES of records, and its records are views
 * of their fetch response, so it keeps that response (at most FETCH_MAX_BYTES) alive. What is
 * in hand is bounded by what the partitions being delivered can use: two batches per partition
 * (the one being delivered, the one read ahead), and `maxInHand` batches in all (two per
 * partition delivered at once, PARTITION_CONCURRENCY); a round asks for no more partitions
 * than that leaves room for. A partition stuck on a slow message holds its own two batches
 * and nothing else, so the others go on.
 */
import type { FetchedPartition, FetchedRecord, FetchRequest } from '../ports.ts'
import type { PartitionState } from './partition-state.ts'

/** One partition's records from one round, to be delivered in offset order. */
export interface Batch {
  readonly partition: number
  readonly fetchOffset: number
  readonly response: FetchedPartition
  readonly round: number
  /** Messages of the run's budget still set aside for it. */
  reserved: number
  /** Set when it starts: what is delivered, at most what it set aside. */
  records: readonly FetchedRecord[]
  /** Fewer records are delivered than the response holds (the budget cut it). */
  cut: boolean
}

export interface Round {
  readonly id: number
  readonly requests: readonly FetchRequest[]
}

export interface PartitionFeedOptions {
  readonly maxMessages: number
  /** Messages the run has done with so far (processed or dead-lettered). */
  readonly done: () => number
  /** Partitions delivered at once (PARTITION_CONCURRENCY); default: all of them. */
  readonly concurrency?: number
}

interface Lane {
  readonly state: PartitionState
  /** Fetched, not started yet, in offset order. */
  readonly queue: Batch[]
  current: Batch | undefined
  /** Where the next fetch starts; undefined until the batch in hand is done with (it was cut). */
  fetchFrom: number | undefined
}

export class PartitionFeed {
  readonly #lanes = new Map<number, Lane>()
  readonly #order: Lane[]
  readonly #options: PartitionFeedOptions
  /** Batches in hand at most: two per partition delivered at once. */
  readonly #maxInHand: number
  #reserved = 0
  #rounds = 0
  /** Batches fetched and not yet done with (queued or being delivered). */
  #inHand = 0
  /** Partitions with a batch to start and none being delivered, in the order the batches came. */
  #startable: Lane[] = []

  constructor(states: readonly PartitionState[], options: PartitionFeedOptions) {
    this.#options = options
    this.#maxInHand = 2 * Math.max(1, Math.min(options.concurrency ?? states.length, states.length))
    this.#order = states.map((state) => ({ state, queue: [], current: undefined, fetchFrom: state.position }))
    for (const lane of this.#order) this.#lanes.set(lane.state.partition, lane)
  }

  /** Messages the run may still set aside for batches to come. */
  free(): number {
    return this.#options.maxMessages - this.#options.done() - this.#reserved
  }

  /** Batches fetched and not yet done with. */
  get inHand(): number {
    return this.#inHand
  }

  /** The next round to fetch, or undefined when no partition may fetch now. */
  nextRound(): Round | undefined {
    const room = this.#maxInHand - this.#inHand
    if (room <= 0 || this.free() <= 0) return undefined
    const ready = this.#order.filter((lane) => this.#isReady(lane))
    if (ready.length === 0) return undefined
    // First batches before read-aheads: a partition with nothing in hand is idle, one with a
    // batch is busy; and each batch takes its share of MAX_MESSAGES, which read-aheads of a
    // few partitions would otherwise use up before the others get any.
    const idle = ready.filter((lane) => lane.current === undefined && lane.queue.length === 0)
    if (idle.length > 0 && idle.length < ready.length) ready.splice(0, ready.length, ...idle)
    const id = ++this.#rounds
    // Rotate the order so that no partition is always last in a size-limited response (or
    // always left out when there is room for only some).
    const shift = (id - 1) % ready.length
    const ordered = shift === 0 ? ready : [...ready.slice(shift), ...ready.slice(0, shift)]
    return {
      id,
      requests: ordered
        .slice(0, room)
        .map((lane) => ({ partition: lane.state.partition, fetchOffset: lane.fetchFrom! })),
    }
  }

  /**
   * Hands the round's responses to their partitions. True when the round brought anything:
   * records, offsets covered by markers only, an offset out of range, or a partition's leader gone.
   */
  receive(round: Round, responses: readonly FetchedPartition[]): boolean {
    const byPartition = new Map(responses.map((response) => [response.partition, response]))
    const share = roundShare(this.free(), round.requests, responses)
    let brought = false
    for (const { partition, fetchOffset } of round.requests) {
      const response = byPartition.get(partition)
      const lane = this.#lanes.get(partition)
      if (response === undefined || lane === undefined) continue
      if (response.watermarks !== undefined) lane.state.endOffset = response.watermarks.endOffset
      if (response.offsetOutOfRange || response.unavailable !== undefined) {
        // Delivered as a batch of its own, so it is resolved from where the partition then is
        // (out of range), or the partition is left out once what it holds is done (no leader).
        this.#hand(lane, batchOf(partition, fetchOffset, response, round.id, 0))
        lane.fetchFrom = undefined
        brought = true
        continue
      }
      const covered = response.lastOffset + 1 - fetchOffset
      if (covered <= 0) continue
      const reserved = Math.min(covered, share, this.free())
      if (reserved <= 0) continue
      brought = true
      this.#reserved += reserved
      this.#hand(lane, batchOf(partition, fetchOffset, response, round.id, reserved))
      // All of it fits what it set aside: the next fetch follows right after it (read ahead).
      lane.fetchFrom = reserved >= covered ? Math.max(fetchOffset, response.lastOffset + 1) : undefined
    }
    return brought
  }

  /**
   * The next batch to deliver: the oldest one whose partition is not delivering another.
   * Batches of a partition that stopped meanwhile are dropped.
   */
  start(): Batch | undefined {
    while (this.#startable.length > 0) {
      const lane = this.#startable.shift()!
      const batch = lane.queue[0]
      if (batch === undefined || lane.current !== undefined) continue
      if (lane.state.halted || batch.fetchOffset !== lane.state.position) {
        this.#dropQueue(lane)
        lane.fetchFrom = lane.state.halted ? undefined : lane.state.position
        continue
      }
      lane.queue.shift()
      lane.current = batch
      const all = batch.response.offsetOutOfRange || batch.response.unavailable ? [] : batch.response.records
      batch.records = all.length <= batch.reserved ? all : all.slice(0, batch.reserved)
      batch.cut = batch.records.length < all.length
      this.#reserved -= batch.reserved - batch.records.length
      batch.reserved = batch.records.length
      return batch
    }
    return undefined
  }

  /** One message of `batch` was done with: its share of the budget is spent. */
  spent(batch: Batch): void {
    batch.reserved--
    this.#reserved--
  }

  /** `batch` was delivered as far as it went; `whole`: every record of its response was done with. */
  finish(batch: Batch, whole: boolean): void {
    const lane = this.#lanes.get(batch.partition)
    if (lane === undefined || lane.current !== batch) return
    lane.current = undefined
    this.#release(batch)
    if (!whole || lane.state.halted) this.#dropQueue(lane)
    if (lane.queue.length > 0) {
      this.#startable.push(lane)
    } else {
      lane.fetchFrom = lane.state.halted ? undefined : lane.state.position
    }
  }

  /** Drops every batch not started yet (the run is ending). */
  dropQueued(): void {
    for (const lane of this.#order) this.#dropQueue(lane)
    this.#startable = []
  }

  #isReady(lane: Lane): boolean {
    const { state } = lane
    return (
      !state.halted &&
      lane.fetchFrom !== undefined &&
      lane.fetchFrom < state.endOffset &&
      lane.queue.length + (lane.current === undefined ? 0 : 1) < 2
    )
  }

  #hand(lane: Lane, batch: Batch): void {
    lane.queue.push(batch)
    this.#inHand++
    if (lane.current === undefined && lane.queue.length === 1) this.#startable.push(lane)
  }

  #release(batch: Batch): void {
    this.#reserved -= batch.reserved
    batch.reserved = 0
    this.#inHand--
  }

  #dropQueue(lane: Lane): void {
    for (const batch of lane.queue.splice(0)) this.#release(batch)
  }
}

function batchOf(
  partition: number,
  fetchOffset: number,
  response: FetchedPartition,
  round: number,
  reserved: number,
): Batch {
  return { partition, fetchOffset, response, round, reserved, records: [], cut: false }
}

/**
 * Each partition's share of a round: the run's remaining messages split between the
 * partitions the round brought something for. Not between all partitions asked: a
 * size-limited response often carries data for a few only, and splitting the budget over all
 * of them would process a sliver of each batch fetched and leave the rest to fetch again.
 */
export function roundShare(
  remaining: number,
  requests: readonly FetchRequest[],
  responses: readonly FetchedPartition[],
): number {
  const asked = new Map(requests.map((request) => [request.partition, request.fetchOffset]))
  let covering = 0
  for (const response of responses) {
    const offset = asked.get(response.partition)
    if (offset !== undefined && response.lastOffset >= offset) covering++
  }
  return Math.ceil(remaining / Math.max(1, covering))
}
