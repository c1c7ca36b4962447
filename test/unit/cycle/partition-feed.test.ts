import { describe, expect, it } from 'vitest'
import { type Batch, PartitionFeed, roundShare } from '../../../src/cycle/partition-feed.ts'
import type { PartitionState } from '../../../src/cycle/partition-state.ts'
import type { FetchedPartition } from '../../../src/ports.ts'
import { record } from '../../support/fakes.ts'

function state(partition: number, position: number, endOffset: number): PartitionState {
  return {
    partition,
    stored: undefined,
    position,
    fromOffset: position,
    endOffset,
    count: 0,
    deadLettered: 0,
    filtered: 0,
    halted: false,
    conflicted: false,
    mustSave: false,
  }
}

/** `count` records from `from`, as the broker would answer a fetch at `from`. */
function response(partition: number, from: number, count: number): FetchedPartition {
  const records = Array.from({ length: count }, (_, index) => record(from + index, '{}'))
  return { partition, records, lastOffset: from + count - 1 }
}

function setup(states: PartitionState[], maxMessages = 1_000_000, concurrency?: number) {
  let done = 0
  const feed = new PartitionFeed(states, {
    maxMessages,
    done: () => done,
    ...(concurrency !== undefined && { concurrency }),
  })
  /** Delivers a started batch whole, as the run does: each message done, then the position after it. */
  const deliver = (batch: Batch) => {
    const target = states.find((candidate) => candidate.partition === batch.partition)!
    for (const fetched of batch.records) {
      target.position = fetched.offset + 1
      done++
      feed.spent(batch)
    }
    if (!batch.cut) target.position = Math.max(target.position, batch.response.lastOffset + 1)
    feed.finish(batch, !batch.cut)
  }
  return { feed, deliver, done: () => done }
}

const partitionsOf = (requests: ReadonlyArray<{ partition: number; fetchOffset: number }> | undefined) =>
  requests?.map((request) => `${request.partition}@${request.fetchOffset}`)

describe('PartitionFeed', () => {
  it('asks every partition behind its end, in a rotating order, and reads ahead right after each batch', () => {
    // Prepare
    const states = [state(0, 0, 100), state(1, 50, 100), state(2, 100, 100)]
    const { feed } = setup(states)

    // Act
    const first = feed.nextRound()!
    feed.receive(first, [response(0, 0, 10), response(1, 50, 10)])
    const second = feed.nextRound()!

    // Assess
    expect(partitionsOf(first.requests)).toEqual(['0@0', '1@50'])
    // Both hold one batch and may read one more ahead, asked in the next order.
    expect(partitionsOf(second.requests)).toEqual(['1@60', '0@10'])
    feed.receive(second, [response(1, 60, 10), response(0, 10, 10)])
    // Two batches in hand each: nothing more until one is done with.
    expect(feed.nextRound()).toBeUndefined()
    expect(feed.inHand).toBe(4)
  })

  it('starts batches in the order they came, one at a time per partition, each following on', () => {
    const states = [state(0, 0, 100), state(1, 0, 100)]
    const { feed, deliver } = setup(states)
    const first = feed.nextRound()!
    feed.receive(first, [response(0, 0, 5), response(1, 0, 5)])
    const second = feed.nextRound()!
    feed.receive(second, [response(1, 5, 5), response(0, 5, 5)])

    const started = [feed.start()!, feed.start()!]
    const blocked = feed.start()
    deliver(started[1]!)
    const next = feed.start()!

    expect(started.map((batch) => `${batch.partition}@${batch.fetchOffset}`)).toEqual(['0@0', '1@0'])
    // Partition 0 is still delivering its first batch; partition 1's second waits for its first.
    expect(blocked).toBeUndefined()
    expect(`${next.partition}@${next.fetchOffset}`).toBe('1@5')
  })

  it('sets each batch its share of MAX_MESSAGES aside, so batches delivered together never exceed it', () => {
    const states = [state(0, 0, 100), state(1, 0, 100), state(2, 0, 100)]
    const { feed } = setup(states, 10)

    const round = feed.nextRound()!
    feed.receive(round, [response(0, 0, 20), response(1, 0, 20), response(2, 0, 20)])
    const batches = [feed.start()!, feed.start()!, feed.start()!]

    // ceil(10 / 3) = 4, 4, then the 2 left.
    expect(batches.map((batch) => batch.records.length)).toEqual([4, 4, 2])
    expect(batches.every((batch) => batch.cut)).toBe(true)
    expect(feed.free()).toBe(0)
    expect(feed.nextRound()).toBeUndefined()
  })

  it('lets a partition whose batch was cut fetch again only once that batch is done with, from where it ended', () => {
    const states = [state(0, 0, 100), state(1, 0, 3)]
    const { feed, deliver } = setup(states, 12)
    const round = feed.nextRound()!
    feed.receive(round, [response(0, 0, 20), response(1, 0, 3)])
    const cut = feed.start()!
    const whole = feed.start()!

    const whileCut = feed.nextRound()
    deliver(whole)
    deliver(cut)
    const after = feed.nextRound()!

    expect(cut.records).toHaveLength(6)
    // Partition 1 reached its end; partition 0 is cut to its share: no read-ahead for either.
    expect(whileCut).toBeUndefined()
    expect(partitionsOf(after.requests)).toEqual(['0@6'])
  })

  it('gives a budget set aside but not used back (a batch with fewer records than offsets)', () => {
    const states = [state(0, 0, 100)]
    const { feed } = setup(states, 10)
    const round = feed.nextRound()!
    // Offsets 0..9 covered, 2 records: the rest were transaction markers or aborted.
    feed.receive(round, [{ partition: 0, records: [record(3, '{}'), record(7, '{}')], lastOffset: 9 }])

    const reservedBefore = feed.free()
    const batch = feed.start()!

    expect(reservedBefore).toBe(0)
    expect(batch.records).toHaveLength(2)
    expect(feed.free()).toBe(8)
  })

  it('drops what a partition that stopped still had in hand, and fetches nothing more for it', () => {
    const states = [state(0, 0, 100), state(1, 0, 100)]
    const { feed } = setup(states)
    feed.receive(feed.nextRound()!, [response(0, 0, 5), response(1, 0, 5)])
    feed.receive(feed.nextRound()!, [response(1, 5, 5), response(0, 5, 5)])
    const first = feed.start()!

    states[0]!.halted = true
    feed.finish(first, false)

    expect(feed.inHand).toBe(2)
    expect(partitionsOf(feed.nextRound()?.requests)).toBeUndefined()
    const next = feed.start()!
    expect(next.partition).toBe(1)
  })

  it('holds at most two batches per partition delivered at once, asking only for as many partitions as fit', () => {
    const states = [0, 1, 2, 3, 4].map((partition) => state(partition, 0, 1000))
    const { feed, deliver } = setup(states, 1_000_000, 2)

    const first = feed.nextRound()!
    feed.receive(first, [response(0, 0, 5), response(1, 0, 5), response(2, 0, 5), response(3, 0, 5)])
    const full = feed.nextRound()
    const started = feed.start()!
    deliver(started)
    const after = feed.nextRound()

    // Room for 2 x 2 batches: the first round asks for four partitions only.
    expect(partitionsOf(first.requests)).toEqual(['0@0', '1@0', '2@0', '3@0'])
    expect(full).toBeUndefined()
    // One batch done with: room for one more, for partition 4, which has none yet.
    expect(partitionsOf(after?.requests)).toEqual(['4@0'])
  })

  it('gives partitions with nothing in hand their first batch before any partition reads ahead', () => {
    const states = [0, 1, 2, 3].map((partition) => state(partition, 0, 1000))
    const { feed } = setup(states, 100)

    const first = feed.nextRound()!
    // A size-limited response: data for two partitions only, each within its share.
    feed.receive(first, [response(0, 0, 20), response(1, 0, 20)])
    const second = feed.nextRound()!
    feed.receive(second, [response(2, 0, 20), response(3, 0, 20)])
    const third = feed.nextRound()!

    expect(partitionsOf(second.requests)).toEqual(['3@0', '2@0'])
    // Every partition has a batch: now the read-aheads, with the 20 messages left to share.
    expect(partitionsOf(third.requests)).toEqual(['2@20', '3@20', '0@20', '1@20'])
    expect(feed.free()).toBe(20)
  })

  it('lets the other partitions fetch on while one is stuck on its batch', () => {
    const states = [state(0, 0, 1000), state(1, 0, 1000)]
    const { feed, deliver } = setup(states)
    feed.receive(feed.nextRound()!, [response(0, 0, 5), response(1, 0, 5)])
    feed.receive(feed.nextRound()!, [response(1, 5, 5), response(0, 5, 5)])
    const stuck = feed.start()! // partition 0's first batch: its processor hangs
    let offset = 0
    for (let round = 0; round < 10; round++) {
      deliver(feed.start()!)
      const next = feed.nextRound()!
      offset = next.requests[0]!.fetchOffset
      expect(partitionsOf(next.requests)).toEqual([`1@${offset}`])
      feed.receive(next, [response(1, offset, 5)])
    }

    expect(stuck.partition).toBe(0)
    expect(offset).toBe(55)
    deliver(stuck)
    const next = [feed.start(), feed.start()].find((batch) => batch?.partition === 0)
    // Partition 0 goes on with its read-ahead, which follows right on.
    expect(next?.fetchOffset).toBe(5)
  })
})

describe('roundShare', () => {
  it('splits what is left of the budget between the partitions the round brought something for', () => {
    const requests = [0, 1, 2, 3].map((partition) => ({ partition, fetchOffset: 10 }))
    const responses = [
      { partition: 0, records: [], lastOffset: 19 },
      { partition: 1, records: [], lastOffset: 9 }, // nothing: it stayed at 10
      { partition: 2, records: [], lastOffset: 14 },
      { partition: 3, records: [], lastOffset: 9 },
    ]

    expect(roundShare(1000, requests, responses)).toBe(500)
    expect(roundShare(1000, requests, [])).toBe(1000)
    expect(roundShare(7, requests, responses)).toBe(4)
  })
})
