import { describe, expect, it } from 'vitest'
import {
  failureOf,
  MessagesFailedError,
  OffsetOutOfRangeError,
  StoredOffsetMismatchError,
} from '../../../src/cycle/errors.ts'
import { type CycleDependencies, type CycleOptions, runCycle } from '../../../src/cycle/run-cycle.ts'
import { LambdaKafkaConsumerError } from '../../../src/errors.ts'
import type { KafkaMessage, Processor } from '../../../src/processing/message.ts'
import {
  FakeKafkaSource,
  InMemoryDeadLetterSink,
  InMemoryOffsetStore,
  InMemoryRunLease,
  RecordingLogger,
  RecordingMetrics,
  record,
  TOPIC_ID,
} from '../../support/fakes.ts'

function setup(processor?: Processor) {
  const source = new FakeKafkaSource()
  const offsets = new InMemoryOffsetStore()
  const logger = new RecordingLogger()
  const seen: KafkaMessage[] = []
  const deps: { -readonly [K in keyof CycleDependencies]: CycleDependencies[K] } = {
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

  it('fails on a partition whose stored offset is beyond its end, consuming the others, and records it', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    source.addPartition(0, 5)
    source.addPartition(1, 3)
    offsets.items.set(0, { offset: 50, topicId: TOPIC_ID })
    const metrics = new RecordingMetrics()

    const summary = await runCycle({ ...deps, metrics }, options())

    expect(seen.map((message) => `${message.partition}:${message.offset}`)).toEqual(['1:0', '1:1', '1:2'])
    expect(offsets.items.get(0)).toMatchObject({
      offset: 50,
      mismatch: { reason: 'beyond-end', logEndOffset: 5 },
    })
    expect(summary.partitions[0]).toMatchObject({
      toOffset: 50,
      count: 0,
      lag: 5,
      mismatch: { reason: 'beyond-end' },
    })
    expect(summary.mismatches).toEqual([
      expect.objectContaining({ partition: 0, storedOffset: 50, logStartOffset: 0, logEndOffset: 5 }),
    ])
    expect(metrics.counts.get('StoredOffsetMismatch')).toBe(1)
    expect(logger.at('error')[0]?.message).toContain('does not fit')
    const failure = failureOf(summary)
    expect(failure).toBeInstanceOf(StoredOffsetMismatchError)
    expect((failure as Error).message).toContain('partition 0: stored offset 50, log 0 to 5 (its end offset)')
    expect((failure as Error).message).toContain('lkc reset --to earliest')
    expect((failure as StoredOffsetMismatchError).retriable).toBe(false)
  })

  it('never resumes past the gap: a recorded mismatch stops the partition once the log has grown past it', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    const partition = source.addPartition(0, 5)
    offsets.items.set(0, { offset: 49, topicId: TOPIC_ID })
    await runCycle(deps, options())
    // The log grows past the stored offset (a truncated log written again).
    partition.records = Array.from({ length: 70 }, (_, offset) => record(offset, '{}'))
    partition.endOffset = 70
    const metrics = new RecordingMetrics()

    const again = await runCycle({ ...deps, metrics }, options())

    expect(seen).toEqual([])
    expect(again.mismatches).toEqual([
      expect.objectContaining({ partition: 0, reason: 'beyond-end', storedOffset: 49 }),
    ])
    expect(again.partitions[0]?.lag).toBe(70)
    expect(failureOf(again)).toBeInstanceOf(StoredOffsetMismatchError)
    expect(metrics.counts.get('StoredOffsetMismatch')).toBe(1)
    // Recorded once, by the run that found it; the later runs write nothing.
    expect(offsets.mismatchesRecorded).toHaveLength(1)
    expect(offsets.saves).toEqual([])
    expect(logger.at('error')).toHaveLength(1)
  })

  it('fails on a topic re-created with more messages than the stored offset: no message skipped, none consumed', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 50)
    offsets.items.set(0, { offset: 49, topicId: TOPIC_ID })
    source.recreate('7c3a9e10-2b4d-4f6a-8e1c-0d9b8a7f6e5d', [70])

    const summary = await runCycle(deps, options())

    expect(seen).toEqual([])
    expect(summary.mismatches).toEqual([
      expect.objectContaining({
        partition: 0,
        reason: 'topic-id',
        storedOffset: 49,
        storedTopicId: TOPIC_ID,
        topicId: '7c3a9e10-2b4d-4f6a-8e1c-0d9b8a7f6e5d',
        logEndOffset: 70,
      }),
    ])
    expect((failureOf(summary) as Error).message).toContain(
      `it was saved for topic id ${TOPIC_ID}, and the topic's id is now 7c3a9e10-2b4d-4f6a-8e1c-0d9b8a7f6e5d`,
    )
    expect(offsets.items.get(0)).toMatchObject({ offset: 49, mismatch: { reason: 'topic-id' } })
  })

  it('treats an item without a topic id as re-created when other items were saved for another id', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 20)
    source.addPartition(1, 20)
    offsets.items.set(0, { offset: 9, topicId: '7c3a9e10-2b4d-4f6a-8e1c-0d9b8a7f6e5d' })
    offsets.items.set(1, { offset: 9 })

    const summary = await runCycle(deps, options())

    expect(seen).toEqual([])
    expect(summary.mismatches.map((mismatch) => [mismatch.partition, mismatch.reason])).toEqual([
      [0, 'topic-id'],
      [1, 'topic-id'],
    ])
  })

  it("adopts the Python design's items (no topic id) and stamps the id on their next save", async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 10)
    offsets.items.set(0, { offset: 6 })

    const summary = await runCycle(deps, options())

    expect(seen.map((message) => message.offset)).toEqual([7, 8, 9])
    expect(summary.mismatches).toEqual([])
    expect(offsets.items.get(0)).toMatchObject({ offset: 9, topicId: TOPIC_ID })
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
    // Gone for good: every fetch from the second on fails (the read-ahead's first among them).
    source.failFetch = { at: 2, times: Number.POSITIVE_INFINITY, error: new Error('broker went away') }

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

  it('sends the offsets read beside the topic lookup, not after it', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 3)
    offsets.items.set(0, { offset: 2 })
    let answer: () => void = () => {}
    const lookedUp = new Promise<void>((resolve) => {
      answer = resolve
    })
    const partitions = source.partitions.bind(source)
    let readsWhileLookingUp = -1
    source.partitions = async (topic) => {
      await lookedUp
      return partitions(topic)
    }

    const running = runCycle(deps, options())
    await Promise.resolve()
    readsWhileLookingUp = offsets.reads
    answer()
    const summary = await running

    expect(readsWhileLookingUp).toBe(1)
    expect(offsets.reads).toBe(1)
    expect(summary.stopReason).toBe('caught-up')
  })

  it('reports the missing topic, not the offsets read, when both fail', async () => {
    const { source, offsets, deps } = setup()
    source.topicExists = false
    offsets.failRead = new Error('DynamoDB is down')

    await expect(runCycle(deps, options())).rejects.toThrow('does not exist')
  })

  it('lets a missing topic fail the run before anything is written', async () => {
    const { source, offsets, deps } = setup()
    source.topicExists = false

    await expect(runCycle(deps, options())).rejects.toThrow('does not exist')
    expect(offsets.saves).toHaveLength(0)
  })
})

class RetriableError extends LambdaKafkaConsumerError {
  constructor(message: string) {
    super(message, { retriable: true })
  }
}

describe('runCycle: the run lease', () => {
  it('returns at once, consuming and writing nothing, when another run holds the lease', async () => {
    // Prepare
    const { source, offsets, seen, logger, deps } = setup()
    source.addPartition(0, 5)
    const lease = new InMemoryRunLease()
    lease.holder = { owner: 'request-1', expiresAt: Date.now() + 30_000 }

    // Act
    const summary = await runCycle(
      { ...deps, lease },
      options({ lease: { owner: 'request-2', durationMs: 5000 } }),
    )

    // Assess
    expect(summary.stopReason).toBe('lease-held')
    expect(summary.lease).toEqual({
      holder: 'request-1',
      expiresAt: new Date(lease.holder.expiresAt).toISOString(),
    })
    expect(seen).toHaveLength(0)
    // The offsets are read first (to know whether there is anything to do), then nothing else.
    expect(offsets.reads).toBe(1)
    expect(offsets.saves).toHaveLength(0)
    expect(source.fetches).toHaveLength(0)
    expect(logger.at('debug')[0]).toMatchObject({ attributes: { holder: 'request-1' } })
    expect(lease.holder.owner).toBe('request-1')
  })

  it('takes the lease, consumes, and releases it at the end', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    const lease = new InMemoryRunLease()

    const summary = await runCycle(
      { ...deps, lease },
      options({ lease: { owner: 'me', durationMs: 60_000 } }),
    )

    expect(summary.count).toBe(5)
    expect(offsets.items.get(0)?.offset).toBe(4)
    expect(lease.calls).toEqual(['acquire me', 'release me'])
    expect(lease.holder!.expiresAt).toBeLessThanOrEqual(Date.now())
  })

  it('takes over a lease that expired (its run was killed)', async () => {
    const { source, deps } = setup()
    source.addPartition(0, 2)
    const lease = new InMemoryRunLease()
    lease.holder = { owner: 'killed-run', expiresAt: Date.now() - 1 }

    const summary = await runCycle(
      { ...deps, lease },
      options({ lease: { owner: 'me', durationMs: 60_000 } }),
    )

    expect(summary.count).toBe(2)
    expect(lease.holder!.owner).toBe('me')
  })

  it('takes no lease when the offsets cannot be read', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 2)
    offsets.failRead = new Error('DynamoDB is down')
    const lease = new InMemoryRunLease()

    await expect(
      runCycle({ ...deps, lease }, options({ lease: { owner: 'me', durationMs: 60_000 } })),
    ).rejects.toThrow('DynamoDB is down')
    expect(lease.calls).toEqual([])
  })

  it('releases the lease even when the run fails after taking it', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 2)
    offsets.failSave = new Error('DynamoDB is down')
    const lease = new InMemoryRunLease()

    const summary = await runCycle(
      { ...deps, lease },
      options({ lease: { owner: 'me', durationMs: 60_000 } }),
    )

    expect((summary.error as Error).message).toBe('DynamoDB is down')
    expect(lease.calls).toEqual(['acquire me', 'release me'])
  })

  it('takes no lease and writes nothing when nothing is new: a read-only run', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 3)
    offsets.items.set(0, { offset: 2 })
    const lease = new InMemoryRunLease()

    const summary = await runCycle({ ...deps, lease }, options())

    expect(summary.stopReason).toBe('caught-up')
    expect(lease.calls).toEqual([])
    expect(offsets.reads).toBe(1)
    expect(offsets.saves).toHaveLength(0)
  })

  it('reads the offsets again when the previous run released the lease after they were read', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 10)
    offsets.items.set(0, { offset: 2 })
    const lease = new InMemoryRunLease()
    // The previous run saves 6 and releases the lease between this run's read and its lease.
    lease.beforeAcquire = (now) => {
      offsets.items.set(0, { offset: 6 })
      lease.previousWriteAt = now
    }

    await runCycle({ ...deps, lease }, options())

    expect(offsets.reads).toBe(2)
    expect(seen.map((message) => message.offset)).toEqual([7, 8, 9])
    expect(offsets.items.get(0)?.offset).toBe(9)
  })

  it('counts and warns once about an offset deleted by retention when the offsets are read again', async () => {
    const { source, offsets, logger, deps } = setup()
    source.addPartition(0, 5, 100)
    source.addPartition(1, 5)
    source.unavailable.set(1, 'no leader (LEADER_NOT_AVAILABLE)')
    offsets.items.set(0, { offset: 89 })
    const metrics = new RecordingMetrics()
    const lease = new InMemoryRunLease()
    // The previous run released the lease just after this run's first read: the offsets are read again.
    lease.beforeAcquire = (now) => {
      lease.previousWriteAt = now
    }

    await runCycle({ ...deps, lease, metrics }, options())

    expect(offsets.reads).toBe(2)
    expect(metrics.counts.get('OffsetOutOfRange')).toBe(1)
    expect(metrics.counts.get('OffsetsLostToRetention')).toBe(10)
    expect(metrics.counts.get('PartitionsWithoutLeader')).toBe(1)
    expect(logger.at('warn').map((entry) => entry.attributes?.partition)).toEqual([0, 1])
  })

  it('tells only what the second read found when the previous run saved in between', async () => {
    const { source, offsets, logger, seen, deps } = setup()
    source.addPartition(0, 10, 100)
    offsets.items.set(0, { offset: 89 })
    const metrics = new RecordingMetrics()
    const lease = new InMemoryRunLease()
    lease.beforeAcquire = (now) => {
      offsets.items.set(0, { offset: 104 })
      lease.previousWriteAt = now
    }

    await runCycle({ ...deps, lease, metrics }, options())

    expect(seen.map((message) => message.offset)).toEqual([105, 106, 107, 108, 109])
    expect(metrics.counts.has('OffsetOutOfRange')).toBe(false)
    expect(logger.at('warn')).toEqual([])
  })

  it('fails before consuming anything when the lease cannot be taken (DynamoDB unreachable)', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 2)
    const lease = new InMemoryRunLease()
    lease.failAcquire = new Error('connect ECONNREFUSED')

    await expect(runCycle({ ...deps, lease }, options())).rejects.toThrow('ECONNREFUSED')
    expect(seen).toHaveLength(0)
    expect(offsets.saves).toHaveLength(0)
  })

  it('writes nothing, lease included, when the topic does not exist', async () => {
    const { source, deps } = setup()
    source.topicExists = false
    const lease = new InMemoryRunLease()

    await expect(runCycle({ ...deps, lease }, options())).rejects.toThrow('does not exist')
    expect(lease.calls).toEqual([])
  })

  it('stops taking messages once its lease expired unrenewed, and still saves conditionally', async () => {
    let now = 0
    const { source, offsets, deps } = setup({
      process: () => {
        now += 400 // far slower than the lease: no renewal gets in (the timer runs on real time)
      },
    })
    source.addPartition(0, 10)
    const lease = new InMemoryRunLease()

    const summary = await runCycle(
      { ...deps, lease, clock: () => now },
      options({ lease: { owner: 'me', durationMs: 1000 } }),
    )

    expect(summary.stopReason).toBe('lease-lost')
    expect(summary.count).toBe(3)
    expect(offsets.items.get(0)?.offset).toBe(2)
  })
})

describe('runCycle: checkpoints', () => {
  it('saves every N messages during the run, so a kill repeats at most N', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 10)
    source.addPartition(1, 10)

    // One partition at a time, for the exact cadence: partitions side by side may share a checkpoint.
    const summary = await runCycle(
      deps,
      options({ checkpoint: { everyMessages: 4, everyMs: 0 }, partitionConcurrency: 1 }),
    )

    expect(summary.count).toBe(20)
    expect(summary.checkpoints).toBe(5)
    // Every save holds only what was done; successive saves of a partition only move forward.
    const saved = offsets.saves.flat()
    for (const partition of [0, 1]) {
      const offsetsSaved = saved.filter((write) => write.partition === partition).map((write) => write.offset)
      expect(offsetsSaved).toEqual([...offsetsSaved].sort((a, b) => a - b))
      expect(offsetsSaved.at(-1)).toBe(9)
    }
    expect(offsets.items.get(0)?.offset).toBe(9)
  })

  it('saves when T ms have passed since the last save', async () => {
    let now = 0
    const { source, offsets, deps } = setup({
      // Asynchronous, as real processors are: a checkpoint (written in the background) lands between messages.
      process: async () => {
        now += 100
      },
    })
    source.addPartition(0, 10)

    await runCycle({ ...deps, clock: () => now }, options({ checkpoint: { everyMessages: 0, everyMs: 250 } }))

    // After messages 3, 6 and 9 (300 ms each time), then the final save.
    expect(offsets.saves.map((writes) => writes[0]!.offset)).toEqual([2, 5, 8, 9])
  })

  it('stops the run when a checkpoint cannot be saved, then fails with the save error', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 50)
    offsets.failSave = new RetriableError('DynamoDB timed out')

    const summary = await runCycle(deps, options({ checkpoint: { everyMessages: 5, everyMs: 0 } }))

    expect(summary.stopReason).toBe('offset-store-error')
    // The checkpoint is written in the background: the run stops once its failure is known, a few
    // messages later, never at the end of the partition.
    expect(summary.count).toBeGreaterThanOrEqual(5)
    expect(summary.count).toBeLessThan(50)
    expect((summary.error as Error).message).toBe('DynamoDB timed out')
    // A checkpoint and the final save, each tried three times.
    expect(offsets.saves).toHaveLength(6)
    expect(offsets.items.size).toBe(0)
  })

  it('retries a save that fails for a moment, and succeeds', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    offsets.failSave = new RetriableError('throttled')
    offsets.failSaveTimes = 2

    const summary = await runCycle(deps, options())

    expect(summary.error).toBeUndefined()
    expect(offsets.items.get(0)?.offset).toBe(4)
    expect(offsets.saves).toHaveLength(3)
  })

  it('retries only the writes that failed, and knows the others were saved', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    source.addPartition(1, 5)
    offsets.failPartitions.set(1, new RetriableError('no answer within 2000 ms'))

    const summary = await runCycle(deps, options())

    expect(offsets.saves.map((writes) => writes.map((write) => write.partition))).toEqual([[0, 1], [1], [1]])
    expect(offsets.items.get(0)?.offset).toBe(4)
    expect(summary.partitions.map((partition) => partition.toOffset)).toEqual([4, null])
    expect((summary.error as Error).message).toBe('no answer within 2000 ms')
    expect(summary.offsetsWritten).toBe(1)
  })

  it('reports no conflict for a partition a failed checkpoint did save: the final save expects its new value', async () => {
    const { source, offsets, deps } = setup({ process: async () => {} })
    source.addPartition(0, 30)
    source.addPartition(1, 30)
    offsets.failPartitions.set(1, new RetriableError('no answer within 2000 ms'))

    const summary = await runCycle(deps, options({ checkpoint: { everyMessages: 10, everyMs: 0 } }))

    // The checkpoint saved partition 0 and not 1; the final save moved 0 on from what the checkpoint stored.
    expect(summary.stopReason).toBe('offset-store-error')
    const savedOfZero = offsets.saves.flat().filter((write) => write.partition === 0)
    expect(savedOfZero.length).toBeGreaterThanOrEqual(2)
    expect(savedOfZero[1]?.expected).toBe(savedOfZero[0]?.offset)
    expect(summary.conflicts).toEqual([])
    expect(offsets.items.get(0)?.offset).toBe(
      summary.partitions[0]!.fromOffset + summary.partitions[0]!.count - 1,
    )
    expect(failureOf(summary)).toBe(summary.error)
    expect((failureOf(summary) as Error).message).toBe('no answer within 2000 ms')
  })

  it('counts an offset already at the value written as saved (an earlier attempt landed late)', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    offsets.beforeWrite = () => offsets.items.set(0, { offset: 4 })

    const summary = await runCycle(deps, options())

    expect(summary.conflicts).toEqual([])
    expect(summary.partitions[0]?.toOffset).toBe(4)
  })

  it('stops a partition whose checkpoint conflicts: another run owns it now', async () => {
    const seen: number[] = []
    const { source, offsets, deps } = setup({ process: async (message) => void seen.push(message.offset) })
    source.addPartition(0, 20)
    offsets.beforeWrite = () => offsets.items.set(0, { offset: 15 })

    const summary = await runCycle(deps, options({ checkpoint: { everyMessages: 5, everyMs: 0 } }))

    // The checkpoint after message 4 is written in the background; its conflict is known when
    // the save's answer arrives, a few messages later, and the partition stops there (never at
    // its end, never at the next checkpoint).
    expect(seen.slice(0, 5)).toEqual([0, 1, 2, 3, 4])
    expect(seen.length).toBeLessThan(10)
    expect(summary.conflicts).toEqual([{ partition: 0, current: 15 }])
    expect(offsets.saves).toHaveLength(1)
  })
})

describe('runCycle: failed messages', () => {
  it('retries a throwing processor, then dead-letters the message and moves on', async () => {
    const calls: number[] = []
    const { source, offsets, deps } = setup({
      process: (message) => {
        calls.push(message.offset)
        if (message.offset === 2) throw new Error('downstream said no')
      },
    })
    source.addPartition(0, 5)
    const deadLetters = new InMemoryDeadLetterSink()
    const metrics = new RecordingMetrics()

    const summary = await runCycle(
      { ...deps, deadLetters, metrics },
      options({ processing: { attempts: 3, retryDelayMs: 10 } }),
    )

    expect(calls).toEqual([0, 1, 2, 2, 2, 3, 4])
    expect(summary).toMatchObject({ count: 4, deadLettered: 1, failures: [] })
    expect(offsets.items.get(0)?.offset).toBe(4)
    expect(deadLetters.letters).toHaveLength(1)
    expect(deadLetters.letters[0]).toMatchObject({
      consumerId: 'lambda-consumer-group_orders',
      topic: 'orders',
      partition: 0,
      offset: 2,
      reason: 'processing-failed',
      attempts: 3,
      error: { name: 'Error', message: 'downstream said no' },
    })
    expect(deadLetters.letters[0]!.value?.toString()).toBe('{"partition":0,"index":2}')
    expect(metrics.counts.get('ProcessingRetries')).toBe(2)
    expect(metrics.counts.get('MessagesDeadLettered')).toBe(1)
  })

  it('dead-letters undecodable values at once, without calling the processor, each with its reason', async () => {
    const { source, seen, deps } = setup()
    const partition = source.addPartition(0, 6)
    partition.records[1] = record(1, 'not json {')
    partition.records[2] = { ...record(2, null), value: Buffer.from([0x7b, 0xff, 0x7d]) }
    partition.records[3] = record(3, '')
    partition.records[4] = record(4, null, 'tombstone')
    const deadLetters = new InMemoryDeadLetterSink()

    const summary = await runCycle({ ...deps, deadLetters }, options())

    expect(seen.map((message) => [message.offset, message.value])).toEqual([
      [0, { partition: 0, index: 0 }],
      [4, null],
      [5, { partition: 0, index: 5 }],
    ])
    expect(deadLetters.letters.map((letter) => [letter.offset, letter.reason, letter.attempts])).toEqual([
      [1, 'not-json', 0],
      [2, 'not-utf8', 0],
      [3, 'empty-value', 0],
    ])
    expect(summary.deadLettered).toBe(3)
  })

  it('stops the partition before a message whose dead letter cannot be written, saving the progress before it', async () => {
    const { source, offsets, deps } = setup({
      process: (message) => {
        if (message.partition === 0 && message.offset === 3) throw new Error('bad order')
      },
    })
    source.addPartition(0, 6)
    source.addPartition(1, 4)
    const deadLetters = new InMemoryDeadLetterSink()
    deadLetters.fail = new Error('SQS unreachable')

    const summary = await runCycle(
      { ...deps, deadLetters },
      options({ processing: { attempts: 1, retryDelayMs: 0 } }),
    )

    expect(offsets.items.get(0)?.offset).toBe(2)
    expect(offsets.items.get(1)?.offset).toBe(3)
    expect(summary.failures).toEqual([
      expect.objectContaining({
        partition: 0,
        offset: 3,
        reason: expect.stringContaining('SQS unreachable'),
      }),
    ])
    expect(failureOf(summary)).toBeInstanceOf(MessagesFailedError)
  })

  it('without a dead-letter destination, retries, then stops the partition before the message', async () => {
    let calls = 0
    const { source, offsets, deps } = setup({
      process: (message) => {
        if (message.offset === 1) {
          calls++
          throw new Error('still failing')
        }
      },
    })
    source.addPartition(0, 3)

    const summary = await runCycle(deps, options({ processing: { attempts: 2, retryDelayMs: 1 } }))

    expect(calls).toBe(2)
    expect(offsets.items.get(0)?.offset).toBe(0)
    expect(summary.failures[0]).toMatchObject({ offset: 1, reason: 'still failing' })
  })

  it('leaves a message for the next run when its retry would end after the deadline', async () => {
    let now = 0
    const { source, offsets, deps } = setup({
      process: (message) => {
        now += 10
        if (message.offset === 2) throw new Error('flaky')
      },
    })
    source.addPartition(0, 5)
    const deadLetters = new InMemoryDeadLetterSink()

    const summary = await runCycle(
      { ...deps, deadLetters, clock: () => now },
      options({ deadline: 100, processing: { attempts: 3, retryDelayMs: 1000 } }),
    )

    expect(summary.stopReason).toBe('deadline')
    expect(deadLetters.letters).toHaveLength(0)
    expect(summary.failures).toHaveLength(0)
    expect(offsets.items.get(0)?.offset).toBe(1)
  })
})

describe('runCycle: outside failures', () => {
  it('fetches again after a retriable Kafka failure (a broker restarting) and finishes the run', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 10)
    source.maxRecordsPerFetch = 4
    source.failFetch = { at: 2, times: 2, error: new RetriableError('Cannot connect to any broker') }

    const summary = await runCycle(deps, options())

    expect(summary.stopReason).toBe('caught-up')
    expect(summary.count).toBe(10)
    expect(offsets.items.get(0)?.offset).toBe(9)
    // Progress is saved before each wait.
    expect(offsets.saves[0]).toEqual([{ partition: 0, offset: 3, expected: undefined, topicId: TOPIC_ID }])
  })

  it('gives up after Kafka keeps failing, having saved what it did', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 10)
    source.maxRecordsPerFetch = 4
    source.failFetch = { at: 2, times: 100, error: new RetriableError('Cannot connect to any broker') }

    const summary = await runCycle(deps, options())

    expect(summary.stopReason).toBe('kafka-error')
    expect(offsets.items.get(0)?.offset).toBe(3)
    // The first round, then the next one (read ahead) and its retries after each backoff.
    expect(source.fetches).toHaveLength(7)
  })

  it('starts a partition added to the topic at its first message, even with START_POSITION=latest', async () => {
    const { source, offsets, seen, logger, deps } = setup()
    source.addPartition(0, 5)
    offsets.items.set(0, { offset: 4 })
    source.addPartition(1, 3)

    await runCycle(deps, options({ startPosition: 'latest' }))

    expect(seen.map((message) => `${message.partition}:${message.offset}`)).toEqual(['1:0', '1:1', '1:2'])
    expect(logger.at('info')[0]).toMatchObject({ message: expect.stringContaining('New partition') })
  })

  it('starts a partition its first run could not save at START_POSITION on the next run, not at earliest', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 20)
    source.addPartition(1, 20)
    source.unavailable.set(1, 'no leader (LEADER_NOT_AVAILABLE)')
    await runCycle(deps, options({ startPosition: 'latest' }))
    source.unavailable.clear()

    const second = await runCycle(deps, options({ startPosition: 'latest' }))

    expect(seen).toEqual([])
    expect(second.partitions.map((partition) => partition.fromOffset)).toEqual([20, 20])
    expect(offsets.items.get(1)?.offset).toBe(19)
  })

  it("records the consumer's start before its first offset, and never again", async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    source.addPartition(1, 5)

    await runCycle(deps, options())
    source.partitionsOf.get(0)!.records.push(record(5, '{}'))
    source.partitionsOf.get(0)!.endOffset = 6
    await runCycle(deps, options())

    expect(offsets.calls).toEqual(['read', 'recordStart', 'save 0,1', 'read', 'save 0'])
    expect(offsets.start).toMatchObject({ partitionCount: 2 })
  })

  it('writes no start record when a first run has nothing to do, nor in a table that already has offsets', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 0)
    await runCycle(deps, options())
    source.addPartition(1, 3)
    offsets.items.set(0, { offset: -1 })

    await runCycle(deps, options({ startPosition: 'latest' }))

    expect(offsets.calls).not.toContain('recordStart')
    // Without the record, a partition without an offset in a table that has some was added since.
    expect(offsets.items.get(1)?.offset).toBe(2)
  })

  it('starts at the first message at or after START_TIMESTAMP, looked up only for the partitions that need it', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 10)
    source.addPartition(1, 10)
    offsets.start = { partitionCount: 2 }
    offsets.items.set(1, { offset: 2 })
    // Records are stamped 1_700_000_000_000 + offset: offset 6 is the first at or after this time.
    const timestampMs = 1_700_000_000_006

    const summary = await runCycle(deps, options({ startPosition: { timestampMs } }))

    expect(source.timeLookups).toEqual([{ timestampMs, partitions: [0] }])
    expect(seen.map((message) => `${message.partition}:${message.offset}`).sort()).toEqual(
      ['0:6', '0:7', '0:8', '0:9', '1:3', '1:4', '1:5', '1:6', '1:7', '1:8', '1:9'].sort(),
    )
    expect(summary.partitions[0]?.fromOffset).toBe(6)
  })

  it('saves a START_TIMESTAMP start at once, even with nothing after it', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 4)

    await runCycle(deps, options({ startPosition: { timestampMs: 1_800_000_000_000 } }))

    expect(offsets.items.get(0)?.offset).toBe(3)
  })

  it('leaves out a partition whose offset at the time cannot be looked up (no leader)', async () => {
    const { source, deps } = setup()
    source.addPartition(0, 4)
    source.addPartition(1, 4)
    const lookup = source.offsetsAtTime.bind(source)
    source.offsetsAtTime = async (topic, partitions, timestampMs) => {
      const found = await lookup(topic, partitions, timestampMs)
      const kept = new Map([...found].filter(([partition]) => partition !== 1))
      return Object.assign(kept, { unavailable: new Map([[1, 'its leader did not answer']]) })
    }

    const summary = await runCycle(deps, options({ startPosition: { timestampMs: 1_700_000_000_002 } }))

    expect(summary.partitions.map((partition) => partition.unavailable ?? partition.fromOffset)).toEqual([
      2,
      'its leader did not answer',
    ])
  })

  it('remembers a latest start on an empty partition, so a message produced before the next run is read', async () => {
    const { source, offsets, seen, deps } = setup()
    const partition = source.addPartition(0, 0)

    await runCycle(deps, options({ startPosition: 'latest' }))
    partition.records.push(record(0, '{"first":true}'))
    partition.endOffset = 1
    await runCycle(deps, options({ startPosition: 'latest' }))

    expect(seen.map((message) => message.value)).toEqual([{ first: true }])
    expect(offsets.items.get(0)?.offset).toBe(0)
  })

  it('resumes at the end with OFFSET_OUT_OF_RANGE_POLICY=latest, counting the offsets lost', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 5, 100)
    offsets.items.set(0, { offset: 89 })
    const metrics = new RecordingMetrics()

    await runCycle({ ...deps, metrics }, options({ offsetOutOfRange: 'latest' }))

    expect(seen).toHaveLength(0)
    expect(offsets.items.get(0)?.offset).toBe(104)
    expect(metrics.counts.get('OffsetOutOfRange')).toBe(1)
    expect(metrics.counts.get('OffsetsLostToRetention')).toBe(10)
  })

  it('stops the partition and fails with OFFSET_OUT_OF_RANGE_POLICY=fail', async () => {
    const { source, offsets, seen, deps } = setup()
    source.addPartition(0, 5, 100)
    offsets.items.set(0, { offset: 89 })

    const summary = await runCycle(deps, options({ offsetOutOfRange: 'fail' }))

    expect(seen).toHaveLength(0)
    expect(offsets.items.get(0)?.offset).toBe(89)
    expect(summary.failures[0]?.error).toBeInstanceOf(OffsetOutOfRangeError)
    expect(summary.failures[0]?.reason).toContain('10 message(s) were deleted by retention')
  })

  it('applies the policy when retention deletes the offset during the run', async () => {
    const { source, offsets, seen, deps } = setup()
    const partition = source.addPartition(0, 10)
    source.maxRecordsPerFetch = 3
    let processed = 0
    deps.processor = {
      process: (message) => {
        seen.push(message)
        // Retention deletes offsets 0..8 while the first round is processed. The second round
        // (3..5) was already read ahead; the third asks for 6, which is gone.
        if (++processed === 3) {
          partition.logStartOffset = 9
          partition.records = partition.records.filter((candidate) => candidate.offset >= 9)
        }
      },
    }

    await runCycle(deps, options())

    expect(seen.map((message) => message.offset)).toEqual([0, 1, 2, 3, 4, 5, 9])
    expect(offsets.items.get(0)?.offset).toBe(9)
  })
})

describe('runCycle: partitions side by side', () => {
  /** An async processor that records, per call, when it started and ended, and waits a little (a write downstream). */
  function traced(waitMs: (message: KafkaMessage) => number = () => 1) {
    const events: Array<{ partition: number; offset: number; at: 'start' | 'end' }> = []
    let running = 0
    let mostRunning = 0
    const runningPerPartition = new Map<number, number>()
    let mostPerPartition = 0
    const processor: Processor = {
      async process(message) {
        running++
        mostRunning = Math.max(mostRunning, running)
        const mine = (runningPerPartition.get(message.partition) ?? 0) + 1
        runningPerPartition.set(message.partition, mine)
        mostPerPartition = Math.max(mostPerPartition, mine)
        events.push({ partition: message.partition, offset: message.offset, at: 'start' })
        await new Promise((resolve) => setTimeout(resolve, waitMs(message)))
        events.push({ partition: message.partition, offset: message.offset, at: 'end' })
        runningPerPartition.set(message.partition, mine - 1)
        running--
      },
    }
    return {
      processor,
      events,
      most: () => ({ running: mostRunning, perPartition: mostPerPartition }),
      offsetsOf: (partition: number) =>
        events
          .filter((event) => event.partition === partition && event.at === 'end')
          .map((event) => event.offset),
    }
  }

  it('delivers the partitions at the same time, each one message at a time and in offset order', async () => {
    // Prepare
    const trace = traced()
    const { source, offsets, deps } = setup(trace.processor)
    for (const partition of [0, 1, 2, 3]) source.addPartition(partition, 12)
    source.maxRecordsPerFetch = 5

    // Act
    const summary = await runCycle(deps, options())

    // Assess
    expect(summary).toMatchObject({ count: 48, stopReason: 'caught-up' })
    for (const partition of [0, 1, 2, 3]) {
      expect(trace.offsetsOf(partition)).toEqual(Array.from({ length: 12 }, (_, offset) => offset))
      expect(offsets.items.get(partition)?.offset).toBe(11)
    }
    expect(trace.most()).toEqual({ running: 4, perPartition: 1 })
  })

  it('delivers at most PARTITION_CONCURRENCY partitions at once', async () => {
    const trace = traced()
    const { source, deps } = setup(trace.processor)
    for (const partition of [0, 1, 2, 3, 4]) source.addPartition(partition, 6)

    const summary = await runCycle(deps, options({ partitionConcurrency: 2 }))

    expect(summary.count).toBe(30)
    expect(trace.most()).toEqual({ running: 2, perPartition: 1 })
  })

  it('hands each batch at most its share of MAX_MESSAGES, and never more than MAX_MESSAGES in all', async () => {
    const calls: string[] = []
    const { source, offsets, deps } = setup({
      async process(message) {
        calls.push(`${message.partition}:${message.offset}`)
        // Partition 0 fails at once (no dead-letter destination): the budget it set aside goes to the others.
        if (message.partition === 0) throw new Error('refused')
        await new Promise((resolve) => setTimeout(resolve, 1))
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 10)

    const summary = await runCycle(
      deps,
      options({ maxMessages: 12, processing: { attempts: 1, retryDelayMs: 0 } }),
    )

    expect(summary.stopReason).toBe('max-messages')
    expect(summary.failures).toHaveLength(1)
    // The failed message is not done with, and its partition's share goes to the others.
    expect(summary.count).toBe(12)
    expect(new Set(calls).size).toBe(13)
    expect(offsets.items.has(0)).toBe(false)
    expect((offsets.items.get(1)?.offset ?? -1) + (offsets.items.get(2)?.offset ?? -1) + 2).toBe(12)
  })

  it('never saves an offset past a message still being processed', async () => {
    const finished = new Map<number, number>()
    const inFlight = new Map<number, number>()
    const violations: string[] = []
    const { source, offsets, deps } = setup({
      async process(message) {
        inFlight.set(message.partition, message.offset)
        await new Promise((resolve) => setTimeout(resolve, (message.offset * 7 + message.partition * 3) % 3))
        inFlight.delete(message.partition)
        finished.set(message.partition, message.offset)
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 15)
    source.maxRecordsPerFetch = 4
    offsets.beforeWrite = (write) => {
      const busy = inFlight.get(write.partition)
      if (
        write.offset > (finished.get(write.partition) ?? -1) ||
        (busy !== undefined && busy <= write.offset)
      )
        violations.push(`${write.partition}@${write.offset}`)
    }

    const summary = await runCycle(deps, options({ checkpoint: { everyMessages: 1, everyMs: 0 } }))

    expect(summary.count).toBe(45)
    expect(summary.checkpoints).toBeGreaterThan(10)
    expect(violations).toEqual([])
    expect([0, 1, 2].map((partition) => offsets.items.get(partition)?.offset)).toEqual([14, 14, 14])
  })

  it('stops every partition when asked, each after the message it was processing, and saves exactly those', async () => {
    let processed = 0
    const last = new Map<number, number>()
    const { source, offsets, deps } = setup({
      async process(message) {
        await new Promise((resolve) => setTimeout(resolve, 1))
        processed++
        last.set(message.partition, message.offset)
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 50)

    const summary = await runCycle(deps, options({ shouldStop: () => processed >= 10 }))

    expect(summary.stopReason).toBe('stopped')
    expect(summary.count).toBe(processed)
    // Each partition finishes the message in hand: at most one more each.
    expect(processed).toBeGreaterThanOrEqual(10)
    expect(processed).toBeLessThanOrEqual(12)
    for (const partition of [0, 1, 2]) expect(offsets.items.get(partition)?.offset).toBe(last.get(partition))
  })

  it('stops every partition at the deadline', async () => {
    let now = 0
    const { source, offsets, deps } = setup({
      async process() {
        await new Promise((resolve) => setTimeout(resolve, 1))
        now += 10
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 100)

    const summary = await runCycle({ ...deps, clock: () => now }, options({ deadline: 200 }))

    expect(summary.stopReason).toBe('deadline')
    expect(summary.count).toBeLessThan(30)
    expect(summary.partitions.every((partition) => partition.count > 0 && partition.lag > 0)).toBe(true)
    expect(summary.partitions.map((partition) => partition.toOffset)).toEqual(
      summary.partitions.map((partition) => partition.count - 1),
    )
    expect(offsets.items.size).toBe(3)
  })

  it('lets the other partitions go on while one processor call hangs, then dead-letters it at its timeout', async () => {
    const order: string[] = []
    const { source, deps } = setup({
      async process(message) {
        if (message.partition === 0 && message.offset === 0) return new Promise<void>(() => {})
        await new Promise((resolve) => setTimeout(resolve, 1))
        order.push(`processed ${message.partition}:${message.offset}`)
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 20)
    source.maxRecordsPerFetch = 3
    const deadLetters = new InMemoryDeadLetterSink()
    const send = deadLetters.send.bind(deadLetters)
    deadLetters.send = async (letter) => {
      order.push(`dead-lettered ${letter.partition}:${letter.offset}`)
      await send(letter)
    }

    const summary = await runCycle(
      { ...deps, deadLetters },
      options({ processing: { attempts: 2, retryDelayMs: 0, timeoutMs: 300 } }),
    )

    expect(summary).toMatchObject({ count: 59, deadLettered: 1, stopReason: 'caught-up' })
    expect(deadLetters.letters[0]).toMatchObject({
      partition: 0,
      offset: 0,
      error: { name: 'ProcessingTimeoutError' },
    })
    // Partitions 1 and 2 went through many fetch rounds while partition 0's call hung.
    const hungUntil = order.indexOf('dead-lettered 0:0')
    expect(order.slice(0, hungUntil).filter((entry) => entry.startsWith('processed 1:'))).toHaveLength(20)
    expect(order.slice(0, hungUntil).filter((entry) => entry.startsWith('processed 2:'))).toHaveLength(20)
  })

  it('goes on with the other partitions while two are stuck on messages of different rounds', async () => {
    let openGate: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    let thirdDone = 0
    const stuckAt = new Set(['0:0', '1:6'])
    const { source, deps } = setup({
      async process(message) {
        if (stuckAt.has(`${message.partition}:${message.offset}`)) await gate
        else await new Promise((resolve) => setTimeout(resolve, 1))
        // The gate opens only once partition 2 is through: a run that waited for the stuck ones never ends.
        if (message.partition === 2 && ++thirdDone === 30) openGate()
      },
    })
    for (const partition of [0, 1, 2]) source.addPartition(partition, 30)
    source.maxRecordsPerFetch = 3

    const summary = await runCycle(
      deps,
      options({ processing: { attempts: 1, retryDelayMs: 0, timeoutMs: 60_000 } }),
    )

    expect(summary).toMatchObject({ count: 90, stopReason: 'caught-up' })
    expect(summary.partitions.map((partition) => partition.toOffset)).toEqual([29, 29, 29])
  })
})

describe('runCycle and the time left for the final save (TIMEOUT_MARGIN_MS)', () => {
  it('gives the store the time a retry must end by, and starts no retry past it', async () => {
    let now = 0
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    offsets.failSave = new RetriableError('DynamoDB did not answer')

    const summary = await runCycle(
      {
        ...deps,
        clock: () => now,
        sleep: async (ms) => {
          now += ms
        },
      },
      options({ saveBy: 1000 }),
    )

    // The first retry (after 250 ms) fits before 1000; the second (after 1000 ms more) does not.
    expect(offsets.saves).toHaveLength(2)
    expect(offsets.saveEndBy).toEqual([undefined, 1000])
    expect((summary.error as Error).message).toBe('DynamoDB did not answer')
    expect(summary.count).toBe(5)
  })

  it('still makes the first attempt of a save when the time for retries is already over', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)

    // A margin smaller than what the retries need: the save itself still goes, once.
    const summary = await runCycle({ ...deps, clock: () => 5000 }, options({ saveBy: 1000 }))

    expect(summary.error).toBeUndefined()
    expect(offsets.items.get(0)?.offset).toBe(4)
    expect(offsets.saveEndBy).toEqual([undefined])
  })

  it('retries the save three times when the time allows', async () => {
    const { source, offsets, deps } = setup()
    source.addPartition(0, 5)
    offsets.failSave = new RetriableError('throttled')
    offsets.failSaveTimes = 2

    const summary = await runCycle(deps, options({ saveBy: Date.now() + 60_000 }))

    expect(summary.error).toBeUndefined()
    expect(offsets.saves).toHaveLength(3)
  })
})

describe('runCycle with a partition without a leader', () => {
  const reason = 'no leader (LEADER_NOT_AVAILABLE): its only replica, on broker 2, is offline'

  it('leaves it out, with a warning naming it and the cause, and a metric, and consumes the others', async () => {
    const { source, offsets, logger, seen, deps } = setup()
    const metrics = new RecordingMetrics()
    source.addPartition(0, 10)
    source.addPartition(1, 10)
    offsets.items.set(1, { offset: 3 })
    source.unavailable.set(1, reason)

    const summary = await runCycle({ ...deps, metrics }, options())

    expect(seen.map((message) => message.partition)).toEqual(Array(10).fill(0))
    expect(summary.partitions[1]).toMatchObject({
      partition: 1,
      fromOffset: 4,
      toOffset: 3,
      count: 0,
      unavailable: reason,
    })
    expect(offsets.items.get(1)?.offset).toBe(3)
    expect(offsets.items.get(0)?.offset).toBe(9)
    expect(metrics.counts.get('PartitionsWithoutLeader')).toBe(1)
    expect(logger.at('warn')).toEqual([
      expect.objectContaining({
        message: 'Partition left out of this run: it has no leader, or its leader does not answer',
        attributes: expect.objectContaining({ partition: 1, storedOffset: 3, reason }),
      }),
    ])
    // Not a failure: the run succeeds, and the next one tries the partition again.
    expect(failureOf(summary)).toBeUndefined()
    expect(summary.stopReason).toBe('caught-up')
  })

  it('leaves out a partition that loses its leader during the run, keeping what it did there', async () => {
    const { source, offsets, deps } = setup({
      process: (message) => {
        if (message.partition === 1 && message.offset === 0) source.unavailable.set(1, reason)
      },
    })
    const metrics = new RecordingMetrics()
    source.addPartition(0, 20)
    source.addPartition(1, 20)
    source.maxRecordsPerFetch = 2

    const summary = await runCycle({ ...deps, metrics }, options())

    const lost = summary.partitions[1]!
    expect(summary.partitions[0]).toMatchObject({ count: 20, toOffset: 19 })
    // What was fetched before the leader went (a round read ahead included) is done and saved.
    expect(lost.unavailable).toBe(reason)
    expect(lost.count).toBeGreaterThanOrEqual(2)
    expect(lost.count).toBeLessThan(20)
    expect(lost.toOffset).toBe(lost.count - 1)
    expect(offsets.items.get(1)?.offset).toBe(lost.count - 1)
    expect(metrics.counts.get('PartitionsWithoutLeader')).toBe(1)
    expect(failureOf(summary)).toBeUndefined()
  })

  it('writes nothing when every partition it owns is without a leader', async () => {
    const { source, offsets, deps } = setup()
    const lease = new InMemoryRunLease()
    source.addPartition(0, 5)
    source.unavailable.set(0, reason)

    const summary = await runCycle({ ...deps, lease }, options())

    expect(summary.partitions[0]?.unavailable).toBe(reason)
    expect(offsets.saves).toEqual([])
    expect(lease.calls).toEqual([])
  })
})
