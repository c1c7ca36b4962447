/**
 * The fault suite (`npm run test:faults`): one scenario per failure the consumer must survive,
 * each on a fresh topic with known messages, each invocation a separate process, each checked
 * from the outside (the topic, the offsets table, the processor's side effects, the
 * dead-letter queue and topic), each printing one row of the table at the end:
 *
 *   scenario | produced | processed | dead-lettered | lost | duplicates | offsets regressed
 *
 * `lost` and `offsets regressed` must be 0 everywhere. Scenarios run one after the other, on
 * the real broker, dynalite and moto's SQS server that the test setup starts.
 */
import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSender, createTopic, type SampleMessage } from '../../src/kafka/topics.ts'
import { type KafkaBroker, startKafkaBroker } from '../../src/local/kafka-broker.ts'
import { type KafkaCluster, startKafkaCluster } from '../../src/local/kafka-cluster.ts'
import { lkc } from '../support/cli.ts'
import { readTopic, type TopicRecord } from '../support/read-topic.ts'
import { freshQueue, freshTopic, produce, recreateTopic, services, storedItems } from '../support/services.ts'
import { transactionalProducer, transactionsSettled } from '../support/transactions.ts'
import {
  collectDeadLetters,
  FaultScenario,
  formatTable,
  type RunOutcome,
  type Tally,
  tally,
  watchOffsets,
} from './support/harness.ts'
import { addPartitions, deleteRecords, produceRaw } from './support/produce-raw.ts'
import {
  createReplicatedTopic,
  type PartitionState,
  partitionStates,
  untilLeaderless,
  untilPartitions,
} from './support/replicated-topic.ts'
import { startTcpProxy } from './support/tcp-proxy.ts'

const rows: Tally[] = []
afterAll(() => {
  FaultScenario.removeLogs()
  console.log(`\nFault suite\n\n${formatTable(rows)}\n`)
})

const CHECKPOINT_EVERY_MESSAGES = 100

/** The consumer's environment in every scenario; each scenario adds or overrides. */
function consumerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { bootstrapServers, dynamodbEndpoint, table } = services()
  return {
    KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    DYNAMODB_TABLE: table,
    LOG_LEVEL: 'WARN',
    MAX_MESSAGES: '100000',
    KAFKA_REQUEST_TIMEOUT_MS: '3000',
    LEASE_DURATION_MS: '3000',
    CHECKPOINT_EVERY_MESSAGES: String(CHECKPOINT_EVERY_MESSAGES),
    CHECKPOINT_EVERY_MS: '2000',
    PROCESSING_RETRY_DELAY_MS: '20',
    INVOCATION_TIMEOUT_MS: '60000',
    TIMEOUT_MARGIN_MS: '5000',
    ...overrides,
  }
}

function messages(count: number, partitions: number, prefix = 'm'): SampleMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `${prefix}-${index}`,
    value: JSON.stringify({ index }),
    partition: index % partitions,
  }))
}

/** Records the row and asserts the two figures that must always be 0. */
function record(row: Tally, finished = true): Tally {
  rows.push(row)
  console.log(formatTable([row]))
  expect(row.lost, `${row.scenario}: lost`).toBe(0)
  expect(row.offsetsRegressed, `${row.scenario}: offsets regressed`).toBe(0)
  expect(row.unexpected, `${row.scenario}: processed messages that are not in the topic`).toBe(0)
  if (finished) expect(row.pending, `${row.scenario}: messages left unconsumed`).toBe(0)
  return row
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const randomBetween = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1))

/** Invokes until a run actually starts consuming (not `lease-held`), with `options`. */
async function invokeHoldingLease(scenario: FaultScenario, options: Parameters<FaultScenario['invoke']>[0]) {
  for (;;) {
    const outcome = await scenario.invoke(options)
    if (outcome.report?.stopReason !== 'lease-held') return outcome
    await sleep(500)
  }
}

describe('fault suite', () => {
  it('SIGKILL of the running process mid-batch, five times in a row', async () => {
    // Prepare
    const topic = await freshTopic(3)
    await produce(topic, messages(3000, 3))
    const scenario = new FaultScenario(
      'SIGKILL mid-batch, 5 times in a row',
      topic,
      consumerEnv({ FAULT_SLOW_MS: '1' }),
    )
    const watch = watchOffsets(scenario.consumerId)

    // Act
    const killed: RunOutcome[] = []
    for (let kill = 0; kill < 5; kill++) {
      const count = randomBetween(150, 550)
      killed.push(
        await invokeHoldingLease(scenario, { whenProcessed: { count, action: (run) => run.kill() } }),
      )
    }
    await scenario.untilCaughtUp()

    // Assess
    const kills = killed.filter((outcome) => outcome.killed).length
    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
    )
    expect(kills).toBeGreaterThanOrEqual(4)
    expect(row.processed).toBe(3000)
    // Each kill repeats at most one checkpoint's worth.
    expect(row.duplicates).toBeLessThanOrEqual(kills * CHECKPOINT_EVERY_MESSAGES)
  })

  it('SIGKILL mid-run with partitions processed in parallel, three times', async () => {
    // Prepare: 8 partitions, a processor that awaits 2 ms (I/O): every partition is in flight at once.
    const partitions = 8
    const topic = await freshTopic(partitions)
    await produce(topic, messages(4000, partitions))
    const scenario = new FaultScenario(
      'SIGKILL mid-run, 8 partitions in parallel, 3 times',
      topic,
      consumerEnv({ FAULT_SLOW_MS: '2', PARTITION_CONCURRENCY: String(partitions) }),
    )
    const watch = watchOffsets(scenario.consumerId)

    // Act
    const killed: RunOutcome[] = []
    for (let kill = 0; kill < 3; kill++) {
      const count = randomBetween(300, 900)
      killed.push(
        await invokeHoldingLease(scenario, { whenProcessed: { count, action: (run) => run.kill() } }),
      )
    }
    await scenario.untilCaughtUp()

    // Assess
    const kills = killed.filter((outcome) => outcome.killed).length
    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
    )
    // The killed runs had every partition going at once: their first 100 messages span them all
    // (one partition after another would have given 100 messages of one partition).
    const firstKilled = scenario.processedLog().filter((entry) => entry.run === killed[0]!.runId)
    const spread = new Set(firstKilled.slice(0, 100).map((entry) => entry.partition)).size
    console.log(`  the first killed run's first 100 messages came from ${spread} of ${partitions} partitions`)
    expect(kills).toBeGreaterThanOrEqual(2)
    expect(spread).toBe(partitions)
    expect(row.processed).toBe(4000)
    // A kill repeats at most what was not saved: the checkpoint being written and the one since
    // (each up to CHECKPOINT_EVERY_MESSAGES plus one message per partition that was done meanwhile),
    // and the message each partition had in hand.
    expect(row.duplicates).toBeLessThanOrEqual(kills * (2 * CHECKPOINT_EVERY_MESSAGES + 3 * partitions))
  })

  it('broker stopped and started mid-run', async () => {
    const broker = await startKafkaBroker()
    let restarted: KafkaBroker | undefined
    try {
      const bootstrapServers = broker.bootstrapServers
      const topic = `restart-${Date.now()}`
      await createTopic({ bootstrapServers: [bootstrapServers], topic, partitions: 2 })
      const sender = createSender([bootstrapServers])
      await sender.send(topic, messages(2000, 2))
      await sender.close()
      const scenario = new FaultScenario(
        'broker stopped and started mid-run',
        topic,
        consumerEnv({ KAFKA_BOOTSTRAP_SERVERS: bootstrapServers, FAULT_SLOW_MS: '2' }),
      )
      const watch = watchOffsets(scenario.consumerId)
      let restart: Promise<void> | undefined

      const first = await scenario.invoke({
        whenProcessed: {
          count: 300,
          action: () => {
            restart = (async () => {
              await broker.stop({ keepData: true })
              await sleep(1000)
              restarted = await startKafkaBroker({
                port: broker.port,
                controllerPort: broker.controllerPort,
                dataDir: broker.dataDir,
              })
            })()
          },
        },
      })
      await restart
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(bootstrapServers, topic), [], await watch.stop()),
      )
      console.log(
        `  the run during the restart: ${first.report ? `resumed and ended ${first.report.stopReason}` : `saved and failed: ${first.failure?.message}`}`,
      )
      expect(row.processed).toBe(2000)
    } finally {
      await (restarted ?? broker).stop()
      // The first broker kept its data for the restart; nothing needs it now.
      await rm(dirname(broker.dataDir), { recursive: true, force: true })
    }
  })

  for (const count of [2, 5]) {
    it(`${count} invocations started at the same moment`, async () => {
      const topic = await freshTopic(2)
      await produce(topic, messages(1000, 2))
      const scenario = new FaultScenario(
        `${count} invocations at the same moment`,
        topic,
        consumerEnv({ FAULT_SLOW_MS: '1', LEASE_DURATION_MS: '5000' }),
      )
      const watch = watchOffsets(scenario.consumerId)

      const outcomes = await scenario.invokeTogether(count)
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      const held = outcomes.filter((outcome) => outcome.report?.stopReason === 'lease-held').length
      console.log(`  ${held} of ${count} found the lease held and returned at once`)
      expect(outcomes.every((outcome) => outcome.code === 0)).toBe(true)
      expect(held).toBeGreaterThanOrEqual(1)
      // The lease lets one run consume at a time: nothing is processed twice.
      expect(row.duplicates).toBe(0)
    })
  }

  it('a processor that throws on some messages (retried, then dead-lettered to SQS)', async () => {
    const topic = await freshTopic(2)
    const queueUrl = await freshQueue()
    const kinds = (index: number) => (index % 50 === 7 ? 'fail' : index % 20 === 3 ? 'flaky' : 'ok')
    await produce(
      topic,
      Array.from({ length: 500 }, (_, index) => ({
        key: `${kinds(index)}-${index}`,
        value: JSON.stringify({ index }),
        partition: index % 2,
      })),
    )
    const scenario = new FaultScenario(
      'processor throws on some messages',
      topic,
      consumerEnv({
        DEAD_LETTER_QUEUE_URL: queueUrl,
        FAULT_FAIL_KEYS: '^fail-',
        FAULT_FLAKY_KEYS: '^flaky-',
      }),
    )
    const watch = watchOffsets(scenario.consumerId)

    await scenario.untilCaughtUp()

    const letters = await collectDeadLetters({ sqs: { endpoint: services().sqsEndpoint, queueUrl } })
    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), letters, await watch.stop()),
    )
    expect(row.deadLettered).toBe(10)
    expect(row.processed).toBe(490)
  })

  const BIG = 1_000_000
  const badMessages = () => [
    { key: 'good-0', value: Buffer.from('{"n":0}'), partition: 0 },
    { key: 'not-utf8', value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), partition: 0 },
    { key: 'not-json', value: Buffer.from('{"n":'), partition: 0 },
    { key: 'empty', value: Buffer.alloc(0), partition: 0 },
    { key: 'tombstone', value: null, partition: 0 },
    { key: 'big-json', value: Buffer.from(JSON.stringify({ blob: 'x'.repeat(BIG - 12) })), partition: 0 },
    { key: 'big-binary', value: Buffer.alloc(BIG, 0xff), partition: 0 },
    { key: 'good-1', value: Buffer.from('{"n":1}'), partition: 0 },
  ]
  const bigTopic = { 'max.message.bytes': String(4 * 1024 * 1024) }

  it('every kind of bad message, dead-lettered to SQS (letters too large for SQS to the topic)', async () => {
    const topic = await freshTopic(1, bigTopic)
    const dlqTopic = await freshTopic(1, bigTopic)
    const queueUrl = await freshQueue()
    await produceRaw(services().bootstrapServers, topic, badMessages())
    const scenario = new FaultScenario(
      'every kind of bad message (SQS + topic for >1 MiB)',
      topic,
      consumerEnv({ DEAD_LETTER_QUEUE_URL: queueUrl, DEAD_LETTER_TOPIC: dlqTopic }),
    )
    const watch = watchOffsets(scenario.consumerId)

    await scenario.untilCaughtUp()

    const inQueue = await collectDeadLetters({ sqs: { endpoint: services().sqsEndpoint, queueUrl } })
    const inTopic = await collectDeadLetters({
      topic: { bootstrapServers: services().bootstrapServers, topic: dlqTopic },
    })
    const row = record(
      await tally(
        scenario,
        await readTopic(services().bootstrapServers, topic),
        [...inQueue, ...inTopic],
        await watch.stop(),
      ),
    )
    const keys = new Map(scenario.processedLog().map((entry) => [entry.offset, entry.key]))
    expect([...keys.values()].sort()).toEqual(['big-json', 'good-0', 'good-1', 'tombstone'])
    expect(inQueue.map((letter) => letter.offset)).toEqual([1, 2, 3])
    expect(inTopic.map((letter) => letter.offset)).toEqual([6])
    expect(row.deadLettered).toBe(4)
  })

  it('every kind of bad message, dead-lettered to a Kafka topic only', async () => {
    const topic = await freshTopic(1, bigTopic)
    const dlqTopic = await freshTopic(1, bigTopic)
    await produceRaw(services().bootstrapServers, topic, badMessages())
    const scenario = new FaultScenario(
      'every kind of bad message (Kafka topic)',
      topic,
      consumerEnv({ DEAD_LETTER_TOPIC: dlqTopic }),
    )
    const watch = watchOffsets(scenario.consumerId)

    await scenario.untilCaughtUp()

    const letters = await collectDeadLetters({
      topic: { bootstrapServers: services().bootstrapServers, topic: dlqTopic },
    })
    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), letters, await watch.stop()),
    )
    expect(letters.map((letter) => letter.offset)).toEqual([1, 2, 3, 6])
    expect(row.processed).toBe(4)
  })

  it('a 1 MB binary poison message with only SQS: its partition stops before it, with a clear error', async () => {
    const topic = await freshTopic(1, bigTopic)
    const queueUrl = await freshQueue()
    await produceRaw(services().bootstrapServers, topic, badMessages())
    const scenario = new FaultScenario(
      '1 MB binary, SQS only: stops before it',
      topic,
      consumerEnv({ DEAD_LETTER_QUEUE_URL: queueUrl }),
    )
    const watch = watchOffsets(scenario.consumerId)

    const first = await scenario.invoke()
    const again = await invokeHoldingLease(scenario, {})

    const letters = await collectDeadLetters({ sqs: { endpoint: services().sqsEndpoint, queueUrl } })
    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), letters, await watch.stop()),
      false,
    )
    expect(first.code).toBe(1)
    expect(first.failure?.message).toContain('partition 0 at offset 6')
    expect(first.failure?.message).toContain('DEAD_LETTER_TOPIC')
    expect(again.code).toBe(1)
    expect(row.pending).toBe(2)
    expect(row.duplicates).toBe(0)
  })

  it('DynamoDB unreachable at the start: nothing consumed, a clear error', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().dynamodbEndpoint).port))
    try {
      const topic = await freshTopic(2)
      await produce(topic, messages(500, 2))
      const scenario = new FaultScenario(
        'DynamoDB down at start',
        topic,
        consumerEnv({ DYNAMODB_ENDPOINT: proxy.endpoint }),
      )
      const watch = watchOffsets(scenario.consumerId)

      await proxy.block()
      const down = await scenario.invoke()
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      expect(down.code).toBe(1)
      expect(down.processed).toBe(0)
      // The offsets are the run's first DynamoDB call: nothing is consumed, no lease is taken.
      expect(down.failure?.message).toContain('Could not read the stored offsets')
      expect(row.duplicates).toBe(0)
    } finally {
      await proxy.close()
    }
  })

  it('DynamoDB unreachable at the save: retries, the invocation fails, the next run reprocesses', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().dynamodbEndpoint).port))
    try {
      const topic = await freshTopic(1)
      await produce(topic, messages(1000, 1))
      const scenario = new FaultScenario(
        'DynamoDB down at save',
        topic,
        consumerEnv({ DYNAMODB_ENDPOINT: proxy.endpoint, FAULT_SLOW_MS: '3' }),
      )
      const watch = watchOffsets(scenario.consumerId)

      const down = await scenario.invoke({ whenProcessed: { count: 250, action: () => proxy.block() } })
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      expect(down.code).toBe(1)
      expect(down.failure?.message).toMatch(/DynamoDB table/)
      expect(row.processed).toBe(1000)
      expect(row.duplicates).toBeGreaterThan(0)
    } finally {
      await proxy.close()
    }
  })

  /** A black hole fails nothing by itself: only the consumer's own time bounds end the invocation. */
  const BLACK_HOLE_TIMEOUT_MS = 30_000
  const blackHoleEnv = (endpoint: Record<string, string>) =>
    consumerEnv({
      ...endpoint,
      INVOCATION_TIMEOUT_MS: String(BLACK_HOLE_TIMEOUT_MS),
      CHECKPOINT_EVERY_MS: '0',
    })

  /**
   * Invokes as Lambda would, killing the run at its timeout (plus the process's start-up, not
   * counted by the invocation's clock); returns how long it took, for the log.
   */
  async function invokeUntilTimeout(
    scenario: FaultScenario,
    options: Parameters<FaultScenario['invoke']>[0] = {},
  ) {
    const started = Date.now()
    const outcome = await scenario.invoke({ ...options, killAfterMs: BLACK_HOLE_TIMEOUT_MS + 10_000 })
    const seconds = (Date.now() - started) / 1000
    console.log(
      `  the run with the service black-holed: ${outcome.killed ? 'killed at the timeout' : `exit ${outcome.code}`} after ${seconds.toFixed(1)} s ` +
        `(invocation timeout ${BLACK_HOLE_TIMEOUT_MS / 1000} s, margin 5 s): ${outcome.failure?.message ?? outcome.report?.stopReason ?? 'no result'}`,
    )
    return outcome
  }

  const storedOffset = async (scenario: FaultScenario, partition: number) =>
    (await storedItems(scenario.consumerId)).find((item) => item.partition === partition)?.offset

  it('DynamoDB black-holed at the start: the invocation fails before its timeout, nothing consumed', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().dynamodbEndpoint).port))
    try {
      const topic = await freshTopic(2)
      await produce(topic, messages(500, 2))
      const scenario = new FaultScenario(
        'DynamoDB black-holed at start',
        topic,
        blackHoleEnv({ DYNAMODB_ENDPOINT: proxy.endpoint }),
      )
      const watch = watchOffsets(scenario.consumerId)

      proxy.blackHole()
      const down = await invokeUntilTimeout(scenario)
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      expect(down.killed).toBe(false)
      expect(down.code).toBe(1)
      expect(down.processed).toBe(0)
      expect(down.failure?.message).toContain('Could not read the stored offsets')
      expect(down.failure?.message).toContain('no answer within 2000 ms')
      expect(row.processed).toBe(500)
      expect(row.duplicates).toBe(0)
    } finally {
      await proxy.close()
    }
  })

  it('DynamoDB black-holed at a checkpoint: the run stops, fails before its timeout, the earlier checkpoint kept', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().dynamodbEndpoint).port))
    try {
      const topic = await freshTopic(1)
      await produce(topic, messages(600, 1))
      const scenario = new FaultScenario(
        'DynamoDB black-holed at a checkpoint',
        topic,
        blackHoleEnv({ DYNAMODB_ENDPOINT: proxy.endpoint, FAULT_SLOW_MS: '10' }),
      )
      const watch = watchOffsets(scenario.consumerId)

      // The checkpoint after message 100 is saved; the one after 200 meets the black hole.
      const down = await invokeUntilTimeout(scenario, {
        whenProcessed: { count: 150, action: () => proxy.blackHole() },
      })
      const savedBefore = await storedOffset(scenario, 0)
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      expect(down.killed).toBe(false)
      expect(down.code).toBe(1)
      expect(down.failure?.message).toMatch(
        /Could not save the offset of partition 0 .*no answer within \d+ ms/,
      )
      expect(savedBefore).toBe(99)
      // It stopped taking messages once the checkpoint failed, well before the end of the partition.
      expect(down.processed).toBeLessThan(600)
      expect(row.processed).toBe(600)
    } finally {
      await proxy.close()
    }
  })

  it('DynamoDB black-holed at the final save: the invocation fails before its timeout, the checkpoints kept', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().dynamodbEndpoint).port))
    try {
      const topic = await freshTopic(1)
      await produce(topic, messages(250, 1))
      const scenario = new FaultScenario(
        'DynamoDB black-holed at the final save',
        topic,
        blackHoleEnv({ DYNAMODB_ENDPOINT: proxy.endpoint, FAULT_SLOW_MS: '20' }),
      )
      const watch = watchOffsets(scenario.consumerId)

      // Checkpoints after messages 100 and 200 are saved; the final save, after 250, is not.
      const down = await invokeUntilTimeout(scenario, {
        whenProcessed: { count: 240, action: () => proxy.blackHole() },
      })
      const savedBefore = await storedOffset(scenario, 0)
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
      )
      expect(down.killed).toBe(false)
      expect(down.code).toBe(1)
      expect(down.processed).toBe(250)
      expect(down.failure?.message).toMatch(
        /Could not save the offset of partition 0 .*no answer within \d+ ms/,
      )
      expect(savedBefore).toBe(199)
      expect(row.processed).toBe(250)
      // Only what came after the last saved checkpoint is processed again.
      expect(row.duplicates).toBe(50)
    } finally {
      await proxy.close()
    }
  })

  it('SQS black-holed during a dead letter: that partition stops before the message, the others go on', async () => {
    const proxy = await startTcpProxy(Number(new URL(services().sqsEndpoint).port))
    try {
      const topic = await freshTopic(2)
      const queueUrl = await freshQueue()
      const throughProxy = new URL(queueUrl)
      throughProxy.port = String(proxy.port)
      // Message 20 is partition 0's offset 10; the processor always refuses it.
      await produce(
        topic,
        messages(40, 2).map((message, index) => (index === 20 ? { ...message, key: 'fail-20' } : message)),
      )
      const scenario = new FaultScenario(
        'SQS black-holed during a dead letter',
        topic,
        blackHoleEnv({ DEAD_LETTER_QUEUE_URL: throughProxy.href, FAULT_FAIL_KEYS: '^fail-' }),
      )
      const watch = watchOffsets(scenario.consumerId)

      proxy.blackHole()
      const down = await invokeUntilTimeout(scenario)
      const saved = [await storedOffset(scenario, 0), await storedOffset(scenario, 1)]
      await proxy.unblock()
      await scenario.untilCaughtUp()

      const letters = await collectDeadLetters({ sqs: { endpoint: services().sqsEndpoint, queueUrl } })
      const row = record(
        await tally(
          scenario,
          await readTopic(services().bootstrapServers, topic),
          letters,
          await watch.stop(),
        ),
      )
      expect(down.killed).toBe(false)
      expect(down.code).toBe(1)
      expect(down.failure?.message).toContain('partition 0 at offset 10')
      expect(down.failure?.message).toContain('no answer within 5000 ms')
      expect(saved).toEqual([9, 19])
      expect(letters).toEqual([{ partition: 0, offset: 10 }])
      expect(row.processed).toBe(39)
      expect(row.duplicates).toBe(0)
    } finally {
      await proxy.close()
    }
  })

  it('an offset deleted by retention before it was read', async () => {
    const topic = await freshTopic(1)
    await produce(topic, messages(100, 1, 'early'))
    const scenario = new FaultScenario(
      'offset deleted by retention (+30 deleted unread)',
      topic,
      consumerEnv(),
    )
    const watch = watchOffsets(scenario.consumerId)

    const first = await scenario.invoke({ env: { MAX_MESSAGES: '30' } })
    await deleteRecords(services().bootstrapServers, topic, 0, 60)
    await produce(topic, messages(40, 1, 'late'))
    await scenario.untilCaughtUp()

    // What a consumer could still read: the 30 read before the deletion, and what retention left.
    const readBefore: Array<Pick<TopicRecord, 'partition' | 'offset'>> = Array.from(
      { length: 30 },
      (_, offset) => ({
        partition: 0,
        offset,
      }),
    )
    const produced = [...readBefore, ...(await readTopic(services().bootstrapServers, topic))]
    const row = record(await tally(scenario, produced, [], await watch.stop()))
    expect(first.report?.count).toBe(30)
    expect(scenario.runs.map((run) => run.output).join('')).toContain('deleted by retention')
    expect(row.produced).toBe(110)
    expect(row.processed).toBe(110)
  })

  it('a partition added to the topic (START_POSITION=latest: the new one still starts at earliest)', async () => {
    const topic = await freshTopic(2)
    const scenario = new FaultScenario('partition added', topic, consumerEnv({ START_POSITION: 'latest' }))
    const watch = watchOffsets(scenario.consumerId)

    await scenario.untilCaughtUp()
    await produce(topic, messages(100, 2))
    await addPartitions(services().bootstrapServers, topic, 3)
    await produce(
      topic,
      Array.from({ length: 50 }, (_, index) => ({
        key: `new-${index}`,
        value: '{"new":true}',
        partition: 2,
      })),
    )
    await scenario.untilCaughtUp()

    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
    )
    expect(row.produced).toBe(150)
    expect(scenario.processedLog().filter((entry) => entry.partition === 2)).toHaveLength(50)
  })

  /**
   * The topic is deleted and created again while the consumer has offsets stored for it. No run
   * may consume the new topic from the old offsets (that skipped what the new log held below
   * them), nor resume once the new log has grown past them: every run fails, naming both
   * offsets, until the operator's `lkc reset --to earliest`; then every message of the new topic
   * is processed, once. The reset is the one move back of the stored offsets, and the operator's:
   * the offsets are watched for regressions before it and after it.
   */
  for (const { label, before, after, grown } of [
    { label: 'topic re-created, fewer messages than the stored offset', before: 200, after: 40, grown: 200 },
    { label: 'topic re-created, more messages than the stored offset', before: 100, after: 140, grown: 0 },
  ]) {
    it(label, async () => {
      // Prepare: the old topic consumed to its end (stored offsets before / 2 - 1 in each partition).
      const topic = await freshTopic(2)
      await produce(topic, messages(before, 2, 'old'))
      const old = new FaultScenario(`${label} (the old topic)`, topic, consumerEnv())
      const watchBefore = watchOffsets(old.consumerId)
      await old.untilCaughtUp()
      await recreateTopic(topic, 2)
      await produce(topic, messages(after, 2, 'new'))
      const scenario = new FaultScenario(label, topic, consumerEnv())

      // Act: runs before the reset, one of them after the new log has grown past the stored offsets.
      const stopped = [await scenario.invoke(), await scenario.invoke()]
      if (grown > 0) {
        await produce(topic, messages(grown, 2, 'grown'))
        stopped.push(await scenario.invoke())
      }
      const itemsBeforeReset = await storedItems(scenario.consumerId)
      const regressedBefore = await watchBefore.stop()
      const reset = await lkc(['reset', '--to', 'earliest', '--yes'], {
        ...consumerEnv(),
        KAFKA_TOPIC: topic,
      })
      const watchAfter = watchOffsets(scenario.consumerId)
      await scenario.untilCaughtUp()

      // Assess
      const row = record(
        await tally(
          scenario,
          await readTopic(services().bootstrapServers, topic),
          [],
          regressedBefore + (await watchAfter.stop()),
        ),
      )
      const stored = before / 2 - 1
      const newLog = after / 2
      console.log(
        `  the runs before the reset: ${stopped.map((run) => `exit ${run.code}, ${run.processed} processed`).join('; ')}\n` +
          `  the first: ${stopped[0]!.failure?.message.slice(0, 420)}...`,
      )
      for (const run of stopped) {
        expect(run.code).toBe(1)
        expect(run.processed).toBe(0)
        expect(run.failure?.name).toBe('StoredOffsetMismatchError')
      }
      expect(stopped[0]!.failure?.message).toContain(
        `partition 0: stored offset ${stored}, log 0 to ${newLog}`,
      )
      expect(stopped[0]!.output).toContain('Stored offset does not fit the partition')
      if (grown > 0) {
        // The new log is past the stored offsets now: still stopped, by the mismatch recorded in the items.
        expect(stopped.at(-1)!.failure?.message).toContain(
          `partition 0: stored offset ${stored}, log 0 to ${newLog + grown / 2}`,
        )
        expect(stopped.at(-1)!.failure?.message).toContain('recorded in its item')
      }
      expect(itemsBeforeReset.map((item) => [item.offset, item.offset_mismatch])).toEqual([
        [stored, 'topic-id'],
        [stored, 'topic-id'],
      ])
      expect(reset.code).toBe(0)
      expect(reset.stdout).toContain('stopped -> 0')
      expect(row.produced).toBe(after + grown)
      expect(row.processed).toBe(after + grown)
      expect(row.duplicates).toBe(0)
      expect(scenario.processedLog().every((entry) => !entry.key.startsWith('old-'))).toBe(true)
    })
  }

  it('shards with START_POSITION=latest, their first runs apart: none starts at earliest', async () => {
    const topic = await freshTopic(4)
    await produce(topic, messages(200, 4, 'old'))
    const scenario = new FaultScenario(
      'shards with START_POSITION=latest, first runs apart',
      topic,
      consumerEnv({ START_POSITION: 'latest', SHARD_COUNT: '2', SHARD_INDEX: '1' }),
    )
    const watch = watchOffsets(scenario.consumerId)
    const shard = async (index: number) => {
      scenario.setEnv({ SHARD_INDEX: String(index) })
      await scenario.untilCaughtUp()
    }

    // Shard 1's first run (partitions 1 and 3 start at 50), then messages, then shard 0's first run
    // (partitions 0 and 2 start at 75: the messages before it are not its to take, by START_POSITION).
    await shard(1)
    await produce(topic, messages(100, 4, 'between'))
    await shard(0)
    await produce(topic, messages(100, 4, 'after'))
    await shard(0)
    await shard(1)

    // What the shards should process: everything after each partition's latest start.
    const startOf = (partition: number) => (partition % 2 === 1 ? 50 : 75)
    const expected = (await readTopic(services().bootstrapServers, topic)).filter(
      (message) => message.offset >= startOf(message.partition),
    )
    const row = record(await tally(scenario, expected, [], await watch.stop()))
    const keys = scenario.processedLog().map((entry) => entry.key)
    expect(keys.filter((key) => key.startsWith('old-'))).toEqual([])
    expect(row.produced).toBe(150)
    expect(row.processed).toBe(150)
    expect(row.duplicates).toBe(0)
    expect(
      (await storedItems(scenario.consumerId)).map((item) => [item.partition, item.offset]).sort(),
    ).toEqual([
      [0, 99],
      [1, 99],
      [2, 99],
      [3, 99],
    ])
  })

  it('aborted transactions, and a transaction still open during a run (read_committed)', async () => {
    const topic = await freshTopic(2)
    const transactions = transactionalProducer(services().bootstrapServers)
    const tx = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        key: `${prefix}-${index}`,
        value: JSON.stringify({ prefix, index }),
        partition: index % 2,
      }))
    try {
      await produce(topic, messages(10, 2, 'plain'))
      await transactions.transaction(topic, tx('committed', 20), 'commit')
      await transactions.transaction(topic, tx('aborted', 15), 'abort')
      await produce(topic, messages(10, 2, 'plain-after'))
      await transactionsSettled(services().bootstrapServers, topic)
      const commitLater = await transactions.open(topic, tx('open', 10))
      const scenario = new FaultScenario('aborted transactions (and one open)', topic, consumerEnv())
      const watch = watchOffsets(scenario.consumerId)

      const whileOpen = await scenario.invoke()
      await commitLater('commit')
      await transactions.transaction(topic, tx('aborted-late', 5), 'abort')
      await transactionsSettled(services().bootstrapServers, topic)
      await scenario.untilCaughtUp()
      const afterwards = await invokeHoldingLease(scenario, {})

      // Committed: everything but what the test aborted (read_uncommitted shows both).
      const committed = (await readTopic(services().bootstrapServers, topic)).filter(
        (message) => !message.key?.toString().startsWith('aborted'),
      )
      const row = record(await tally(scenario, committed, [], await watch.stop()))
      const keys = scenario.processedLog().map((entry) => entry.key)
      expect(keys.filter((key) => key.startsWith('aborted'))).toEqual([])
      expect(row.produced).toBe(50)
      expect(row.processed).toBe(50)
      // The open transaction ends the first run at the last stable offset: it neither waits nor loops.
      expect(whileOpen.report?.stopReason).toBe('caught-up')
      expect(whileOpen.report?.count).toBe(40)
      expect(afterwards.report).toMatchObject({ count: 0, offsetsWritten: 0 })
    } finally {
      await transactions.close()
    }
  })

  it('runs that hit their time budget with a slow processor', async () => {
    const topic = await freshTopic(1)
    await produce(topic, messages(300, 1))
    const timeoutMs = 4000
    const scenario = new FaultScenario(
      'time budget hit, slow processor (20 ms/msg)',
      topic,
      consumerEnv({
        FAULT_SLOW_MS: '20',
        INVOCATION_TIMEOUT_MS: String(timeoutMs),
        TIMEOUT_MARGIN_MS: '1500',
      }),
    )
    const watch = watchOffsets(scenario.consumerId)

    // Like Lambda, kill a run that outlives its timeout (plus the process's own start-up).
    for (let run = 0; run < 20; run++) {
      const outcome = await scenario.invoke({ killAfterMs: timeoutMs + 3000 })
      if (outcome.report?.stopReason === 'caught-up' && outcome.report.partitions.every((p) => p.lag === 0))
        break
    }

    const row = record(
      await tally(scenario, await readTopic(services().bootstrapServers, topic), [], await watch.stop()),
    )
    const reasons = scenario.runs.map((run) => run.report?.stopReason ?? (run.killed ? 'killed' : 'failed'))
    console.log(`  runs: ${reasons.join(', ')}`)
    expect(reasons.filter((reason) => reason === 'deadline').length).toBeGreaterThanOrEqual(1)
    expect(row.processed).toBe(300)
  })

  describe('a partition leader moves (a cluster of its own: controller 1, brokers 2 and 3)', () => {
    const PARTITIONS = 4
    const COUNT = 2400
    const LATE = 100
    // Brokers 2 and 3 each lead half the partitions (a partition's first replica is its preferred leader).
    const replicas = Array.from({ length: PARTITIONS }, (_, partition) =>
      partition % 2 === 0 ? [2, 3] : [3, 2],
    )
    const topics = {
      moved: `leader-${randomUUID().slice(0, 8)}`,
      back: `leader-back-${randomUUID().slice(0, 8)}`,
    }
    /** Replication factor 1: partitions 0 and 2 only on broker 2, partitions 1 and 3 only on broker 3. */
    const offlineTopic = `leader-offline-${randomUUID().slice(0, 8)}`
    const OFFLINE_COUNT = 400
    let cluster: KafkaCluster | undefined

    beforeAll(async () => {
      cluster = await startKafkaCluster()
      const servers = cluster.bootstrapServers.split(',')
      for (const topic of Object.values(topics)) {
        await createReplicatedTopic(servers, topic, replicas, { 'min.insync.replicas': '1' })
      }
      await createReplicatedTopic(servers, offlineTopic, [[2], [3], [2], [3]])
      // Small producer batches (10 messages a partition) and small fetches (FETCH_PARTITION_MAX_BYTES
      // below) make a run fetch each partition many times, so it fetches again after the move.
      const sender = createSender(servers, 40)
      try {
        for (const topic of Object.values(topics)) await sender.send(topic, messages(COUNT, PARTITIONS))
        await sender.send(offlineTopic, messages(OFFLINE_COUNT, PARTITIONS))
      } finally {
        await sender.close()
      }
      // Reading uses a consumer group: its offsets topic is created now, on both brokers, so
      // that the reads at the end work with one broker away.
      expect(await readTopic(cluster.address(2), topics.moved)).toHaveLength(COUNT)
    })
    afterAll(async () => {
      await cluster?.stop()
    })

    /** A run that the test holds (its processor stalls) while `change` moves leaders under it. */
    function leaderScenario(name: string, topic: string) {
      const pauseFile = join(tmpdir(), `lkc-pause-${randomUUID()}`)
      const scenario = new FaultScenario(
        name,
        topic,
        consumerEnv({
          KAFKA_BOOTSTRAP_SERVERS: cluster!.bootstrapServers,
          FAULT_SLOW_MS: '1',
          FAULT_PAUSE_FILE: pauseFile,
          FETCH_PARTITION_MAX_BYTES: '1024',
        }),
      )
      return {
        scenario,
        /** Invokes once; after 300 messages, stalls the processor, runs `change`, lets it go on. */
        async invokeMovingLeaders(change: () => Promise<void>) {
          let changing: Promise<void> | undefined
          const outcome = await scenario.invoke({
            whenProcessed: {
              count: 300,
              action: () => {
                writeFileSync(pauseFile, '')
                changing = change().finally(() => rmSync(pauseFile, { force: true }))
              },
            },
          })
          await changing
          return outcome
        },
      }
    }

    const leaders = (broker: number) => (states: readonly PartitionState[]) =>
      states.every((state) => state.leader === broker)

    /** The messages written after the move that `run` processed: it can only have fetched them from the new leader. */
    const lateProcessedBy = (scenario: FaultScenario, run: RunOutcome) =>
      scenario.processedLog().filter((entry) => entry.run === run.runId && entry.key.startsWith('late-'))

    /** `LATE` messages to `partitions`, sent through `broker` after the move: only the new leader has them. */
    async function produceLate(broker: string, topic: string, partitions: readonly number[]) {
      const sender = createSender([broker])
      try {
        await sender.send(
          topic,
          Array.from({ length: LATE }, (_, index) => ({
            key: `late-${index}`,
            value: JSON.stringify({ index }),
            partition: partitions[index % partitions.length]!,
          })),
        )
      } finally {
        await sender.close()
      }
    }

    it('leader moved mid-run', async () => {
      const kafka = cluster!
      const topic = topics.moved
      const servers = kafka.bootstrapServers.split(',')
      expect((await partitionStates(servers, topic)).map((state) => state.leader)).toEqual([2, 3, 2, 3])
      const { scenario, invokeMovingLeaders } = leaderScenario('leader moved mid-run', topic)
      const watch = watchOffsets(scenario.consumerId)

      // Broker 2 stops (a controlled shutdown hands its partitions to broker 3, then the JVM
      // exits) while the run is consuming; messages written after that exist on broker 3 only.
      const first = await invokeMovingLeaders(async () => {
        await kafka.stopBroker(2)
        await untilPartitions([kafka.address(3)], topic, leaders(3), 'broker 3 leading every partition')
        await produceLate(kafka.address(3), topic, [0, 2])
      })
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(kafka.address(3), topic), [], await watch.stop()),
      )
      const lateByFirst = lateProcessedBy(scenario, first)
      console.log(
        `  the run during the move: ${first.report ? `followed the new leader (${lateByFirst.length} of ${LATE} messages written after the move) and ended ${first.report.stopReason}` : `saved and failed: ${first.failure?.message}`}`,
      )
      expect(row.produced).toBe(COUNT + LATE)
      expect(row.processed).toBe(COUNT + LATE)
      // The run went on past the move: it fetched from the new leader what only the new leader had.
      expect(first.code).toBe(0)
      expect(lateByFirst).toHaveLength(LATE)
    })

    it('the old leader back, and leading again mid-run', async () => {
      const kafka = cluster!
      const topic = topics.back
      // Broker 2 away (after the scenario above, it still is): broker 3 leads every partition.
      await kafka.stopBroker(2)
      await untilPartitions([kafka.address(3)], topic, leaders(3), 'broker 3 leading every partition')
      const { scenario, invokeMovingLeaders } = leaderScenario('old leader back, leads again mid-run', topic)
      const watch = watchOffsets(scenario.consumerId)

      // While the run consumes, broker 2 comes back on its port and data and catches up; then
      // broker 3 stops, and every partition's leadership moves to broker 2, which this run's
      // process found down when it started.
      const first = await invokeMovingLeaders(async () => {
        await kafka.startBroker(2)
        await untilPartitions(
          [kafka.address(2)],
          topic,
          (states) => states.every((state) => state.isr.includes(2)),
          'broker 2 back in sync',
        )
        await kafka.stopBroker(3)
        await untilPartitions([kafka.address(2)], topic, leaders(2), 'broker 2 leading every partition')
        await produceLate(kafka.address(2), topic, [0, 1, 2, 3])
      })
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(kafka.address(2), topic), [], await watch.stop()),
      )
      const lateByFirst = lateProcessedBy(scenario, first)
      console.log(
        `  the run during the moves: ${first.report ? `followed the leaders back to broker 2 (${lateByFirst.length} of ${LATE} messages written after the move) and ended ${first.report.stopReason}` : `saved and failed: ${first.failure?.message}`}`,
      )
      expect(row.produced).toBe(COUNT + LATE)
      expect(row.processed).toBe(COUNT + LATE)
      expect(first.code).toBe(0)
      expect(lateByFirst).toHaveLength(LATE)
    })

    it('a partition leader offline (replication factor 1 on the stopped broker): left out, the rest consumed', async () => {
      const kafka = cluster!
      const servers = kafka.bootstrapServers.split(',')
      // Broker 3 away (after the scenarios above, it already is): its partitions, 1 and 3, have no leader.
      await kafka.stopBroker(3)
      await untilLeaderless([kafka.address(2)], offlineTopic, [1, 3])
      const scenario = new FaultScenario(
        'partition leader offline (RF 1, broker stopped)',
        offlineTopic,
        consumerEnv({ KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers }),
      )
      const watch = watchOffsets(scenario.consumerId)

      const whileOffline = await scenario.invoke()
      await kafka.startBroker(3)
      await untilLeaderless(servers, offlineTopic, [])
      await scenario.untilCaughtUp()

      const row = record(
        await tally(scenario, await readTopic(kafka.address(2), offlineTopic), [], await watch.stop()),
      )
      const report = whileOffline.report
      const leftOut = report?.partitions.filter((partition) => partition.unavailable !== undefined) ?? []
      console.log(
        `  the run while broker 3 was away: ${report ? `exit ${whileOffline.code}, ${report.count} message(s) from partitions ${report.partitions.filter((p) => p.count > 0).map((p) => p.partition)}, left out: ${leftOut.map((p) => `${p.partition} (${p.unavailable})`).join('; ')}` : `failed: ${whileOffline.failure?.message}`}`,
      )
      expect(whileOffline.code).toBe(0)
      expect(report?.stopReason).toBe('caught-up')
      expect(report?.partitions.map((partition) => [partition.partition, partition.count])).toEqual([
        [0, OFFLINE_COUNT / 4],
        [1, 0],
        [2, OFFLINE_COUNT / 4],
        [3, 0],
      ])
      expect(leftOut.map((partition) => partition.partition)).toEqual([1, 3])
      for (const partition of leftOut) {
        expect(partition.unavailable).toContain('no leader (LEADER_NOT_AVAILABLE)')
        expect(partition.unavailable).toContain('broker 3')
      }
      expect(whileOffline.output).toContain('Partition left out of this run')
      expect(row.produced).toBe(OFFLINE_COUNT)
      expect(row.processed).toBe(OFFLINE_COUNT)
      expect(row.duplicates).toBe(0)
    })
  })
})
