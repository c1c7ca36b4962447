import { describe, expect, it } from 'vitest'
import { ReadAhead, roundShare } from '../../../src/cycle/read-ahead.ts'
import { FakeKafkaSource } from '../../support/fakes.ts'

const plenty = { messages: 1_000_000 }

function setup(options: { stop?: () => boolean } = {}) {
  const source = new FakeKafkaSource()
  source.addPartition(0, 30)
  source.addPartition(1, 30)
  source.maxRecordsPerFetch = 10
  const readAhead = new ReadAhead(source, 'orders', { shouldStop: options.stop ?? (() => false) })
  return { source, readAhead }
}

const offsets = (
  responses: ReadonlyArray<{ partition: number; records: ReadonlyArray<{ offset: number }> }>,
) =>
  Object.fromEntries(
    responses.map((response) => [response.partition, response.records.map((record) => record.offset)]),
  )

describe('ReadAhead', () => {
  it('fetches the next round in the background and serves it when the cycle asks for it', async () => {
    // Prepare
    const { source, readAhead } = setup()

    // Act
    const first = await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 0 },
        { partition: 1, fetchOffset: 0 },
      ],
      plenty,
    )
    const fetchesAfterFirst = source.fetches.length
    const second = await readAhead.fetch(
      [
        { partition: 1, fetchOffset: 10 },
        { partition: 0, fetchOffset: 10 },
      ],
      plenty,
    )

    // Assess
    expect(offsets(first)[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(fetchesAfterFirst).toBe(2)
    expect(source.fetches[1]).toEqual([
      { partition: 1, fetchOffset: 10 },
      { partition: 0, fetchOffset: 10 },
    ])
    expect(offsets(second)[1]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    expect(readAhead.hits).toBe(1)
    expect(source.fetches).toHaveLength(3) // the round after the second, read ahead in turn
  })

  it('fetches now what it did not guess, and uses what it did', async () => {
    const { source, readAhead } = setup()
    await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 0 },
        { partition: 1, fetchOffset: 0 },
      ],
      plenty,
    )

    const second = await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 10 },
        { partition: 1, fetchOffset: 4 },
      ],
      plenty,
    )

    expect(offsets(second)[0]![0]).toBe(10)
    expect(offsets(second)[1]![0]).toBe(4)
    expect(source.fetches[2]).toEqual([{ partition: 1, fetchOffset: 4 }])
  })

  it.each([
    ['the round uses up the run budget', { messages: 20 }, () => false],
    ['the run must stop', plenty, () => true],
  ])('does not read ahead when %s', async (_case, budget, stop) => {
    const { source, readAhead } = setup({ stop })

    await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 0 },
        { partition: 1, fetchOffset: 0 },
      ],
      budget,
    )

    expect(source.fetches).toHaveLength(1)
  })

  it('does not read ahead when a partition brought more than its share of the budget', async () => {
    const { source, readAhead } = setup()

    // 10 + 5 offsets covered fit a budget of 16, but 10 is more than the share of 8 each
    await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 0 },
        { partition: 1, fetchOffset: 25 },
      ],
      { messages: 16 },
    )

    expect(source.fetches).toHaveLength(1)
  })

  it('does not read ahead for a partition the response says is at its end', async () => {
    const { source, readAhead } = setup()

    await readAhead.fetch(
      [
        { partition: 0, fetchOffset: 25 },
        { partition: 1, fetchOffset: 0 },
      ],
      plenty,
    )

    expect(source.fetches[1]).toEqual([{ partition: 1, fetchOffset: 10 }])
  })

  it('drops a read-ahead that failed: the next fetch asks the source, and its error is the one seen', async () => {
    const { source, readAhead } = setup()
    source.failFetch = { at: 2, times: Number.POSITIVE_INFINITY, error: new Error('broker went away') }
    await readAhead.fetch([{ partition: 0, fetchOffset: 0 }], plenty)

    await expect(readAhead.fetch([{ partition: 0, fetchOffset: 10 }], plenty)).rejects.toThrow(
      'broker went away',
    )
    expect(source.fetches).toHaveLength(3)
  })

  it('settles: waits for a read-ahead in flight, so that no fetch outlives the run', async () => {
    const { source, readAhead } = setup()
    let release: () => void = () => {}
    const fetch = source.fetch.bind(source)
    let calls = 0
    let finished = false
    source.fetch = async (topic, requests) => {
      calls++
      if (calls === 2) await new Promise<void>((resolve) => (release = resolve))
      const responses = await fetch(topic, requests)
      if (calls === 2) finished = true
      return responses
    }
    await readAhead.fetch([{ partition: 0, fetchOffset: 0 }], plenty)

    let settledEarly = false
    const settled = readAhead.settle().then(() => {
      settledEarly = !finished
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const waiting = !finished
    release()
    await settled

    expect(waiting).toBe(true)
    expect(settledEarly).toBe(false)
    expect(finished).toBe(true)
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
