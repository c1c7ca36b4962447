/**
 * Read-ahead for the run cycle: while the cycle processes one fetch round, the next round is
 * already on its way from the brokers. Without it, every round is fetch, then process, then
 * fetch: the consumer idles during each fetch and the broker during each processing step
 * (about an eighth of a local drain's time was idle in the profile; in Lambda, with the broker
 * across the network, more).
 *
 * The cycle calls `fetch` where it called `source.fetch`, and `settle` before it saves. After
 * each fetch, the next round is predicted: every partition asked for continues right after what
 * this round covered, unless the response says it reached the end. The prediction is fetched
 * in the background only when the cycle will surely consume this whole round and fetch again
 * (the round fits the run's message budget, overall and per partition; no deadline or stop);
 * it is used only for the partitions whose next request matches it exactly, so a wrong guess
 * costs one fetch, never a wrong record. One fetch at a time is in flight, as the brokers'
 * fetch sessions require.
 */
import type { FetchedPartition, FetchRequest, KafkaSource } from '../ports.ts'

export interface ReadAheadOptions {
  /** True once the run must not start anything new (deadline, Ctrl-C). */
  readonly shouldStop: () => boolean
}

/** What the cycle may still process when the round being fetched arrives. */
export interface RoundBudget {
  /** Messages the run may still process. */
  readonly messages: number
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

interface Pending {
  readonly requests: readonly FetchRequest[]
  /** Resolves to the responses, or to undefined when the fetch failed (the real fetch retries). */
  readonly responses: Promise<FetchedPartition[] | undefined>
}

export class ReadAhead {
  readonly #source: KafkaSource
  readonly #topic: string
  readonly #options: ReadAheadOptions
  #pending: Pending | undefined
  /** Rounds served from a read-ahead, for the summary and the benchmark. */
  hits = 0

  constructor(source: KafkaSource, topic: string, options: ReadAheadOptions) {
    this.#source = source
    this.#topic = topic
    this.#options = options
  }

  /** One fetch round: what was read ahead for these requests, the rest fetched now. */
  async fetch(requests: readonly FetchRequest[], budget: RoundBudget): Promise<FetchedPartition[]> {
    const ahead = await this.#takePending(requests)
    const missing = requests.filter((request) => !ahead.has(request.partition))
    const fetched = missing.length > 0 ? await this.#source.fetch(this.#topic, missing) : []
    if (ahead.size > 0) this.hits++
    const responses = ahead.size === 0 ? fetched : [...ahead.values(), ...fetched]
    this.#readAhead(requests, responses, budget)
    return responses
  }

  /** Waits for a read-ahead still in flight and drops it, so that no fetch outlives the run. */
  async settle(): Promise<void> {
    const pending = this.#pending
    this.#pending = undefined
    await pending?.responses
  }

  async #takePending(requests: readonly FetchRequest[]): Promise<Map<number, FetchedPartition>> {
    const pending = this.#pending
    this.#pending = undefined
    const matched = new Map<number, FetchedPartition>()
    if (pending === undefined) return matched
    const responses = await pending.responses
    if (responses === undefined) return matched
    const predicted = new Map(pending.requests.map((request) => [request.partition, request.fetchOffset]))
    const wanted = new Map(requests.map((request) => [request.partition, request.fetchOffset]))
    for (const response of responses) {
      const offset = wanted.get(response.partition)
      if (offset !== undefined && offset === predicted.get(response.partition))
        matched.set(response.partition, response)
    }
    return matched
  }

  #readAhead(
    requests: readonly FetchRequest[],
    responses: readonly FetchedPartition[],
    budget: RoundBudget,
  ): void {
    if (this.#options.shouldStop()) return
    const share = roundShare(budget.messages, requests, responses)
    const byPartition = new Map(responses.map((response) => [response.partition, response]))
    const next: FetchRequest[] = []
    // Offsets covered bound the records from above (markers and aborted records have offsets
    // too), and are known without building the records.
    let offsetsCovered = 0
    for (const request of requests) {
      const response = byPartition.get(request.partition)
      if (response === undefined || response.offsetOutOfRange) {
        next.push(request)
        continue
      }
      const covered = Math.max(0, response.lastOffset + 1 - request.fetchOffset)
      if (covered > share) return
      offsetsCovered += covered
      const nextOffset = Math.max(request.fetchOffset, response.lastOffset + 1)
      const end = response.watermarks?.endOffset
      if (end === undefined || nextOffset < end)
        next.push({ partition: request.partition, fetchOffset: nextOffset })
    }
    if (next.length === 0 || offsetsCovered === 0 || offsetsCovered >= budget.messages) return
    // The cycle rotates the order of its requests every round, so that no partition is always
    // last in a size-limited response; the read-ahead asks in the order the cycle would.
    next.push(next.shift()!)
    const responsesAhead = this.#source.fetch(this.#topic, next).then(
      (fetched) => fetched,
      () => undefined,
    )
    this.#pending = { requests: next, responses: responsesAhead }
  }
}
