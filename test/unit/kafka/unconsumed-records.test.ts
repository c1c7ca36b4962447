import { describe, expect, it } from 'vitest'
import { UnconsumedRecords } from '../../../src/kafka/unconsumed-records.ts'
import type { FetchedPartition } from '../../../src/ports.ts'
import { record } from '../../support/fakes.ts'

const TOPIC = 'topic-id-1'

/** A response covering offsets [from, lastOffset], with records at the offsets given. */
function response(partition: number, offsets: number[], lastOffset: number): FetchedPartition {
  return { partition, records: offsets.map((offset) => record(offset, '{}')), lastOffset }
}

function setup(options: { maxAgeMs?: number; maxRounds?: number } = {}) {
  let now = 1_000
  const unconsumed = new UnconsumedRecords({ ...options, clock: () => now })
  return { unconsumed, advance: (ms: number) => (now += ms) }
}

const offsetsOf = (served: Map<number, FetchedPartition>, partition: number) =>
  served.get(partition)?.records.map((fetched) => fetched.offset)

describe('UnconsumedRecords', () => {
  it('serves the rest of a response from the offset asked for, without watermarks', () => {
    // Prepare
    const { unconsumed } = setup()
    unconsumed.keep(TOPIC, [{ partition: 0, fetchOffset: 10 }], [response(0, [10, 11, 12, 14], 15)])

    // Act
    const served = unconsumed.take(TOPIC, [{ partition: 0, fetchOffset: 12 }])

    // Assess
    expect(offsetsOf(served, 0)).toEqual([12, 14])
    expect(served.get(0)).toMatchObject({ partition: 0, lastOffset: 15 })
    expect(served.get(0)?.watermarks).toBeUndefined()
  })

  it('serves an empty remainder when only markers are left, so the run steps over them', () => {
    const { unconsumed } = setup()
    unconsumed.keep(TOPIC, [{ partition: 0, fetchOffset: 0 }], [response(0, [0, 1], 3)])

    const served = unconsumed.take(TOPIC, [{ partition: 0, fetchOffset: 2 }])

    expect(served.get(0)).toEqual({ partition: 0, records: [], lastOffset: 3 })
  })

  it.each([
    ['past the end of what was fetched', TOPIC, 16, 0],
    ['before what was fetched', TOPIC, 9, 0],
    ['under another topic id (the topic was recreated)', 'topic-id-2', 11, 0],
    ['older than the maximum age', TOPIC, 11, 60_001],
  ])('serves nothing when the offset asked for is %s', (_case, topicId, fetchOffset, wait) => {
    const { unconsumed, advance } = setup({ maxAgeMs: 60_000 })
    unconsumed.keep(TOPIC, [{ partition: 0, fetchOffset: 10 }], [response(0, [10, 11, 12], 15)])
    advance(wait)

    const served = unconsumed.take(topicId, [{ partition: 0, fetchOffset }])

    expect(served.size).toBe(0)
    expect(unconsumed.size).toBe(0)
  })

  it('keeps the remainder of a partition a fetch does not ask for, for a later fetch, until it is too old', () => {
    // Prepare: two partitions' responses; then a round that asks for only one of them (the
    // other is busy, or out of the round's room), as a deep backlog at MAX_MESSAGES=1000 does.
    const { unconsumed, advance } = setup({ maxAgeMs: 60_000 })
    unconsumed.keep(
      TOPIC,
      [
        { partition: 0, fetchOffset: 0 },
        { partition: 1, fetchOffset: 0 },
      ],
      [response(0, [0, 1, 2], 2), response(1, [0, 1, 2], 2)],
    )
    expect([...unconsumed.take(TOPIC, [{ partition: 1, fetchOffset: 1 }]).keys()]).toEqual([1])

    // Act: the next invocation asks for both.
    const both = [
      { partition: 0, fetchOffset: 1 },
      { partition: 1, fetchOffset: 2 },
    ]
    const served = unconsumed.take(TOPIC, both)

    // Assess: partition 0 is served from memory, not fetched and decoded again.
    expect(offsetsOf(served, 0)).toEqual([1, 2])
    expect(offsetsOf(served, 1)).toEqual([2])
    advance(60_001)
    expect(unconsumed.take(TOPIC, both).size).toBe(0)
    expect(unconsumed.size).toBe(0)
  })

  it('keeps responses of at most maxRounds fetch rounds alive', () => {
    const { unconsumed } = setup({ maxRounds: 2 })
    unconsumed.keep(TOPIC, [{ partition: 0, fetchOffset: 0 }], [response(0, [0, 1], 1)])
    unconsumed.keep(TOPIC, [{ partition: 1, fetchOffset: 0 }], [response(1, [0, 1], 1)])
    unconsumed.keep(TOPIC, [{ partition: 2, fetchOffset: 0 }], [response(2, [0, 1], 1)])

    const served = unconsumed.take(
      TOPIC,
      [0, 1, 2].map((partition) => ({ partition, fetchOffset: 1 })),
    )

    expect([...served.keys()].sort()).toEqual([1, 2])
  })

  it('keeps nothing of a response that covered nothing or was out of range', () => {
    const { unconsumed } = setup()
    unconsumed.keep(
      TOPIC,
      [
        { partition: 0, fetchOffset: 5 },
        { partition: 1, fetchOffset: 5 },
      ],
      [response(0, [], 4), { ...response(1, [], 4), offsetOutOfRange: true }],
    )

    expect(unconsumed.size).toBe(0)
  })

  it('does not build the records of the responses it keeps (the source builds them lazily)', () => {
    const { unconsumed } = setup()
    let built = 0
    const lazy: FetchedPartition = {
      partition: 0,
      lastOffset: 9,
      get records() {
        built++
        return [record(5, '{}')]
      },
    }

    unconsumed.keep(TOPIC, [{ partition: 0, fetchOffset: 5 }], [lazy])

    expect(built).toBe(0)
    expect(unconsumed.size).toBe(1)
  })
})
