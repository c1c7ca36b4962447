import { describe, expect, it } from 'vitest'
import { runCycle } from '../../../src/cycle/run-cycle.ts'
import { ownedPartitions } from '../../../src/cycle/shards.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { FakeKafkaSource, InMemoryOffsetStore, RecordingLogger } from '../../support/fakes.ts'

describe('ownedPartitions', () => {
  it('gives shard i of n the partitions p with p % n == i', () => {
    const partitions = [0, 1, 2, 3, 4, 5, 6]

    expect(ownedPartitions(partitions, { count: 3, index: 0 })).toEqual([0, 3, 6])
    expect(ownedPartitions(partitions, { count: 3, index: 1 })).toEqual([1, 4])
    expect(ownedPartitions(partitions, { count: 3, index: 2 })).toEqual([2, 5])
  })

  it('gives one shard, or no shard setting, every partition', () => {
    expect(ownedPartitions([0, 1, 2], { count: 1, index: 0 })).toEqual([0, 1, 2])
    expect(ownedPartitions([0, 1, 2], undefined)).toEqual([0, 1, 2])
  })
})

describe('runCycle with a shard', () => {
  function setup() {
    const source = new FakeKafkaSource()
    const offsets = new InMemoryOffsetStore()
    const logger = new RecordingLogger()
    const seen: KafkaMessage[] = []
    const deps = {
      source,
      offsets,
      logger,
      processor: { process: (message: KafkaMessage) => void seen.push(message) },
    }
    return { source, offsets, logger, seen, deps }
  }
  const options = (shard: { count: number; index: number }) => ({
    topic: 'orders',
    consumerId: 'lambda-consumer-group_orders',
    maxMessages: 1000,
    startPosition: 'earliest' as const,
    deadline: Number.POSITIVE_INFINITY,
    shard,
  })

  it('fetches, processes and saves only its own partitions, and leaves the others alone', async () => {
    // Prepare
    const { source, offsets, seen, deps } = setup()
    for (const partition of [0, 1, 2, 3, 4, 5]) source.addPartition(partition, 4)
    offsets.items.set(0, { offset: 1 })

    // Act
    const summary = await runCycle(deps, options({ count: 2, index: 1 }))

    // Assess
    expect(new Set(seen.map((message) => message.partition))).toEqual(new Set([1, 3, 5]))
    expect(seen).toHaveLength(12)
    expect(source.fetches.flat().every((request) => request.partition % 2 === 1)).toBe(true)
    expect(summary.partitions.map((partition) => partition.partition)).toEqual([1, 3, 5])
    expect([...offsets.items.keys()].sort()).toEqual([0, 1, 3, 5])
    expect(offsets.items.get(0)?.offset).toBe(1)
  })

  it('starts each shard at START_POSITION=latest on its own first run, after another shard has saved', async () => {
    const { source, offsets, seen, deps } = setup()
    for (const partition of [0, 1, 2, 3]) source.addPartition(partition, 50)
    const latest = (index: number) => ({ ...options({ count: 2, index }), startPosition: 'latest' as const })

    await runCycle(deps, latest(1))
    const shardZero = await runCycle(deps, latest(0))

    // Shard 0's first run comes after shard 1 saved: its partitions still start at their end.
    expect(seen).toEqual([])
    expect(shardZero.partitions.map((partition) => [partition.partition, partition.fromOffset])).toEqual([
      [0, 50],
      [2, 50],
    ])
    expect([...offsets.items].map(([partition, item]) => [partition, item.offset])).toEqual([
      [1, 49],
      [3, 49],
      [0, 49],
      [2, 49],
    ])
    // Shard 1 recorded the consumer's start (4 partitions) before saving anything; shard 0 found it.
    expect(offsets.start).toMatchObject({ partitionCount: 4 })
    expect(offsets.calls.filter((call) => call !== 'read')).toEqual(['recordStart', 'save 1,3', 'save 0,2'])
  })

  it('starts a partition added after the consumer started at its first message, whichever shard finds it', async () => {
    const { source, offsets, seen, deps } = setup()
    for (const partition of [0, 1]) source.addPartition(partition, 10)
    const latest = (index: number) => ({ ...options({ count: 2, index }), startPosition: 'latest' as const })
    await runCycle(deps, latest(1))
    source.addPartition(2, 5)
    source.addPartition(3, 5)

    await runCycle(deps, latest(0))
    await runCycle(deps, latest(1))

    expect(seen.map((message) => `${message.partition}:${message.offset}`).sort()).toEqual(
      ['2:0', '2:1', '2:2', '2:3', '2:4', '3:0', '3:1', '3:2', '3:3', '3:4'].sort(),
    )
    expect(offsets.items.get(0)?.offset).toBe(9)
  })

  it('warns and consumes nothing when there are more shards than partitions', async () => {
    const { source, offsets, logger, deps } = setup()
    source.addPartition(0, 3)
    source.addPartition(1, 3)

    const summary = await runCycle(deps, options({ count: 4, index: 3 }))

    expect(summary.count).toBe(0)
    expect(summary.partitions).toEqual([])
    expect(source.fetches).toHaveLength(0)
    expect(offsets.saves).toHaveLength(0)
    expect(logger.at('warn')[0]?.message).toContain('owns none')
  })
})
