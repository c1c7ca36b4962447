import { describe, expect, it } from 'vitest'
import { type CycleOptions, runCycle } from '../../../src/cycle/run-cycle.ts'
import type { KafkaMessage, Processor } from '../../../src/processing/message.ts'
import { FakeKafkaSource, InMemoryOffsetStore, RecordingLogger, record } from '../../support/fakes.ts'

function setup(processor?: Processor) {
  const source = new FakeKafkaSource()
  const offsets = new InMemoryOffsetStore()
  const logger = new RecordingLogger()
  const seen: KafkaMessage[] = []
  const deps = {
    source,
    offsets,
    logger,
    processor: processor ?? { process: (message: KafkaMessage) => void seen.push(message) },
    sleep: async () => {},
  }
  return { source, offsets, logger, seen, deps }
}

const options = (overrides: Partial<CycleOptions> = {}): CycleOptions => ({
  topic: 'orders',
  consumerId: 'lambda-consumer-group_orders',
  maxMessages: 1000,
  startPosition: 'earliest',
  deadline: Number.POSITIVE_INFINITY,
  ...overrides,
})

describe('runCycle', () => {
  it('reads every partition from stored offset + 1 and saves the last processed offset', async () => {
    // Prepare
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 10)
    source.addPartition(1, 5)
    offsets.items.set(0, { offset: 6 })

    // Act
    const summary = await runCycle(deps, options())

    // Assess
    expect(seen.map((m) => `${m.partition}:${m.offset}`)).toEqual([
      '0:7',
      '0:8',
      '0:9',
      '1:0',
      '1:1',
      '1:2',
      '1:3',
      '1:4',
    ])
    expect(offsets.items.get(0)?.offset).toBe(9)
    expect(offsets.items.get(1)?.offset).toBe(4)
    expect(summary.count).toBe(8)
    expect(summary.partitions).toEqual([
      { partition: 0, fromOffset: 7, toOffset: 9, count: 3, deadLettered: 0, lag: 0 },
      { partition: 1, fromOffset: 0, toOffset: 4, count: 5, deadLettered: 0, lag: 0 },
    ])
    expect(offsets.reads).toBe(1)
  })

  it('stops at maxMessages, sharing it across partitions, and the next run continues', async () => {
    const { source, offsets, seen, deps } = setup()
    for (const partition of [0, 1, 2]) source.addPartition(partition, 10)

    const first = await runCycle(deps, options({ maxMessages: 12 }))
    const second = await runCycle(deps, options({ maxMessages: 12 }))
    const third = await runCycle(deps, options({ maxMessages: 12 }))

    expect([first.count, second.count, third.count]).toEqual([12, 12, 6])
    expect(first.stopReason).toBe('max-messages')
    expect(third.stopReason).toBe('caught-up')
    expect(first.partitions.map((p) => p.count)).toEqual([4, 4, 4])
    expect(new Set(seen.map((m) => `${m.partition}:${m.offset}`)).size).toBe(30)
    expect([...offsets.items.values()].map((item) => item.offset)).toEqual([9, 9, 9])
  })

  it('writes nothing when no partition has anything new', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 3)
    offsets.items.set(0, { offset: 2 })

    const summary = await runCycle(deps, options())

    expect(summary.count).toBe(0)
    expect(summary.offsetsWritten).toBe(0)
    expect(offsets.saves).toHaveLength(0)
    expect(source.fetches).toHaveLength(0)
  })

  it('stops a partition before a message that is not JSON and lets the others go on', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    const bad = source.addPartition(0, 4)
    bad.records[2] = record(2, 'not json')
    source.addPartition(1, 3)

    const summary = await runCycle(deps, options())

    expect(seen.map((m) => `${m.partition}:${m.offset}`)).toEqual(['0:0', '0:1', '1:0', '1:1', '1:2'])
    expect(offsets.items.get(0)?.offset).toBe(1)
    expect(offsets.items.get(1)?.offset).toBe(2)
    expect(summary.failures).toEqual([
      expect.objectContaining({ partition: 0, offset: 2, reason: expect.stringContaining('not JSON') }),
    ])
    expect(summary.partitions[0]).toMatchObject({ count: 2, failure: { offset: 2 } })
    expect(logger.at('error')[0]).toMatchObject({ attributes: { topic: 'orders', partition: 0, offset: 2 } })
  })

  it('stops a partition before a message its processor throws on', async () => {
    const seen: number[] = []
    const { source, offsets, deps } = setup({
      process: (message) => {
        if (message.offset === 3) throw new Error('downstream said no')
        seen.push(message.offset)
      },
    })
    source.addPartition(0, 6)

    const summary = await runCycle(deps, options())

    expect(seen).toEqual([0, 1, 2])
    expect(offsets.items.get(0)?.offset).toBe(2)
    expect(summary.failures[0]).toMatchObject({ offset: 3, reason: 'downstream said no' })
  })

  it('treats a batch processor failure as the whole batch failing', async () => {
    const batches: number[][] = []
    const { source, offsets, deps } = setup({
      processBatch: (messages) => {
        if (messages[0]!.partition === 1) throw new Error('batch rejected')
        batches.push(messages.map((m) => m.offset))
      },
    })
    source.addPartition(0, 3)
    source.addPartition(1, 3)

    const summary = await runCycle(deps, options())

    expect(batches).toEqual([[0, 1, 2]])
    expect(offsets.items.get(0)?.offset).toBe(2)
    expect(offsets.items.has(1)).toBe(false)
    expect(summary.failures[0]).toMatchObject({ partition: 1, offset: 0 })
  })

  it('decodes a tombstone to a null value and processes it', async () => {
    const { source, seen, deps } = setup()
    const partition = source.addPartition(0, 2)
    partition.records[1] = record(1, null, 'deleted-key')

    await runCycle(deps, options())

    expect(seen[1]).toMatchObject({ offset: 1, key: 'deleted-key', value: null })
  })

  it('starts at the end with latest and saves that start, so the next run misses nothing', async () => {
    const { source, offsets, seen, deps } = setup()
    const partition = source.addPartition(0, 5)

    const first = await runCycle(deps, options({ startPosition: 'latest' }))
    partition.records.push(record(5, '{"new":true}'))
    partition.endOffset = 6
    await runCycle(deps, options({ startPosition: 'latest' }))

    expect(first.count).toBe(0)
    expect(seen.map((m) => m.offset)).toEqual([5])
    expect(offsets.items.get(0)?.offset).toBe(5)
  })

  it('resumes at the log start with a warning naming how many offsets retention deleted', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    source.addPartition(0, 5, 100)
    offsets.items.set(0, { offset: 89 })

    await runCycle(deps, options())

    expect(seen[0]?.offset).toBe(100)
    expect(logger.at('warn')[0]).toMatchObject({
      message: expect.stringContaining('retention'),
      attributes: { partition: 0, storedOffset: 89, logStartOffset: 100, offsetsLostToRetention: 10 },
    })
    expect(offsets.items.get(0)?.offset).toBe(104)
  })

  it('does not consume a partition whose stored offset is beyond its end, and says so', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    source.addPartition(0, 5)
    offsets.items.set(0, { offset: 50 })

    const summary = await runCycle(deps, options())

    expect(seen).toHaveLength(0)
    expect(offsets.items.get(0)?.offset).toBe(50)
    expect(summary.offsetsWritten).toBe(0)
    expect(logger.at('warn')[0]?.message).toContain('beyond the end')
  })

  it('skips offsets the broker reports as covered without records (control markers, aborted records)', async () => {
    const { source, offsets, seen, deps } = setup()
    const partition = source.addPartition(0, 6)
    // Offsets 3 and 5 are a commit marker and an aborted record: no record, but covered.
    partition.records = partition.records.filter((r) => r.offset !== 3 && r.offset !== 5)

    await runCycle(deps, options())
    const again = await runCycle(deps, options())

    expect(seen.map((m) => m.offset)).toEqual([0, 1, 2, 4])
    expect(offsets.items.get(0)?.offset).toBe(5)
    expect(again.count).toBe(0)
  })

  it('saves the progress made before Kafka failed mid-run, and reports the error', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 10)
    source.maxRecordsPerFetch = 4
    source.failFetch = { at: 2, error: new Error('broker went away') }

    const summary = await runCycle(deps, options())

    expect(summary.count).toBe(4)
    expect(summary.stopReason).toBe('kafka-error')
    expect((summary.error as Error).message).toBe('broker went away')
    expect(offsets.items.get(0)?.offset).toBe(3)
  })

  it('stops starting messages at the deadline and saves what it finished', async () => {
    let now = 0
    const { source, offsets, deps } = setup({
      process: () => {
        now += 10
      },
    })
    source.addPartition(0, 100)

    const summary = await runCycle({ ...deps, clock: () => now }, options({ deadline: 55 }))

    expect(summary.stopReason).toBe('deadline')
    expect(summary.count).toBe(6)
    expect(offsets.items.get(0)?.offset).toBe(5)
  })

  it('stops when asked between messages (Ctrl-C) and saves', async () => {
    let processed = 0
    const { source, offsets, deps } = setup({ process: () => void processed++ })
    source.addPartition(0, 50)

    const summary = await runCycle(deps, options({ shouldStop: () => processed >= 7 }))

    expect(summary.stopReason).toBe('stopped')
    expect(summary.count).toBe(7)
    expect(offsets.items.get(0)?.offset).toBe(6)
  })

  it('reports a conflict instead of overwriting an offset someone else moved', async () => {
    const { source, offsets, logger, deps } = setup()
    source.addPartition(0, 10)
    offsets.items.set(0, { offset: 1 })
    offsets.beforeWrite = () => offsets.items.set(0, { offset: 8 })

    const summary = await runCycle(deps, options())

    expect(summary.conflicts).toEqual([{ partition: 0, current: 8 }])
    expect(offsets.items.get(0)?.offset).toBe(8)
    expect(summary.partitions[0]?.toOffset).toBe(1)
    expect(logger.at('error')[0]?.message).toContain('not overwritten')
  })

  it('gives up after fetches keep returning nothing although the broker reports more', async () => {
    const { source, logger, deps } = setup()
    source.addPartition(0, 3)
    source.stalled = true

    const summary = await runCycle(deps, options())

    expect(summary.count).toBe(0)
    expect(source.fetches).toHaveLength(3)
    expect(logger.at('warn')[0]?.message).toContain('returned nothing')
  })

  it('rotates the order partitions are requested in, so none is always last', async () => {
    const { source, deps } = setup()
    for (const partition of [0, 1, 2]) source.addPartition(partition, 9)
    source.maxRecordsPerFetch = 3

    await runCycle(deps, options())

    expect(source.fetches.slice(0, 3).map((requests) => requests[0]!.partition)).toEqual([0, 1, 2])
  })

  it('lets a missing topic fail the run before anything is written', async () => {
    const { source, offsets, deps } = setup()
    source.topicExists = false

    await expect(runCycle(deps, options())).rejects.toThrow('does not exist')
    expect(offsets.saves).toHaveLength(0)
  })
})
