/**
 * The soak (`npm run soak`; not in CI): at least 1,000,000 messages through many scheduled
 * invocations, each its own process, about a third of them SIGKILLed (half after a random
 * number of messages, half at a random moment), as Lambda kills a run at its timeout. A poison message every 10,000 goes to a dead-letter topic.
 * Checked from the outside at the end (the broker's end offsets, the offsets table, the
 * processor's side effects, the dead-letter topic), it prints produced, processed,
 * dead-lettered, lost (must be 0), duplicates, offsets regressed (must be 0), and the
 * worst-case reprocessing per kill. Exit code 1 if anything was lost or went backwards.
 *
 *   npm run soak [-- --messages 1000000 --partitions 4 --kill-ratio 0.35]
 */
import { parseArgs } from 'node:util'
import { Consumer } from '@platformatic/kafka'
import { createSender, createTopic, type SampleMessage } from '../../src/kafka/topics.ts'
import { startLocalStack } from '../../src/local/local-stack.ts'
import {
  collectDeadLetters,
  FaultScenario,
  formatTable,
  tally,
  watchOffsets,
} from '../faults/support/harness.ts'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '4' },
    'kill-ratio': { type: 'string', default: '0.35' },
    'max-messages': { type: 'string', default: '25000' },
    'checkpoint-every': { type: 'string', default: '1000' },
  },
})
const total = Number(values.messages)
const partitions = Number(values.partitions)
const killRatio = Number(values['kill-ratio'])
const checkpointEvery = Number(values['checkpoint-every'])
const maxMessages = Number(values['max-messages'])
const POISON_EVERY = 10_000
const CHUNK = 50_000

const say = (line: string) =>
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const startedAt = Date.now()
say('starting a Kafka broker and dynalite')
const stack = await startLocalStack()
let exitCode = 1
try {
  const bootstrapServers = stack.broker.bootstrapServers
  const topic = 'soak'
  const dlqTopic = 'soak.dlq'
  await createTopic({ bootstrapServers: [bootstrapServers], topic, partitions })
  await createTopic({ bootstrapServers: [bootstrapServers], topic: dlqTopic, partitions: 1 })
  const table = { endpoint: stack.dynamodb.endpoint, table: stack.env.DYNAMODB_TABLE! }
  const scenario = new FaultScenario(
    'soak',
    topic,
    {
      KAFKA_BOOTSTRAP_SERVERS: bootstrapServers,
      DYNAMODB_ENDPOINT: stack.dynamodb.endpoint,
      DYNAMODB_TABLE: table.table,
      DEAD_LETTER_TOPIC: dlqTopic,
      LOG_LEVEL: 'ERROR',
      MAX_MESSAGES: values['max-messages'],
      LEASE_DURATION_MS: '2000',
      CHECKPOINT_EVERY_MESSAGES: String(checkpointEvery),
      CHECKPOINT_EVERY_MS: '2000',
      INVOCATION_TIMEOUT_MS: '60000',
    },
    table,
  )
  const watch = watchOffsets(scenario.consumerId, 200, table)

  // The producer runs alongside the schedule, as a live topic would.
  let produced = 0
  const producing = (async () => {
    const sender = createSender([bootstrapServers], 10_000)
    try {
      for (let first = 0; first < total; first += CHUNK) {
        const chunk: SampleMessage[] = []
        for (let index = first; index < Math.min(total, first + CHUNK); index++) {
          const poison = index % POISON_EVERY === POISON_EVERY - 1
          chunk.push({
            key: `s-${index}`,
            value: poison ? `not json ${index}` : `{"i":${index}}`,
            partition: index % partitions,
          })
        }
        await sender.send(topic, chunk)
        produced += chunk.length
      }
    } finally {
      await sender.close()
    }
  })()

  // The schedule: one invocation after another (never two at once, as `lkc start`), some killed.
  let runs = 0
  let kills = 0
  let producerDone = false
  void producing.then(() => {
    producerDone = true
  })
  for (;;) {
    const kill = Math.random() < killRatio
    // Only a run that starts after the last message was produced can find the topic finished.
    const startedAfterProducer = producerDone
    // Half the kills after a random number of messages (mid-batch), half at a random moment.
    const killAt = Math.random() < 0.5 ? 'count' : 'time'
    const outcome = await scenario.invoke(
      !kill
        ? {}
        : killAt === 'count'
          ? {
              whenProcessed: {
                count: 1 + Math.floor(Math.random() * (maxMessages - 1)),
                action: (run) => run.kill(),
              },
            }
          : { killAfterMs: 500 + Math.floor(Math.random() * 3500) },
    )
    runs++
    if (outcome.killed) kills++
    const report = outcome.report
    if (runs % 10 === 0 || outcome.killed) {
      say(
        `run ${runs}: ${outcome.killed ? 'SIGKILLed' : (report?.stopReason ?? outcome.failure?.message ?? 'failed')}` +
          `, ${outcome.processed} processed; produced so far ${produced}`,
      )
    }
    if (report?.stopReason === 'lease-held') await sleep(500)
    const caughtUp =
      report?.stopReason === 'caught-up' &&
      report.failures.length === 0 &&
      report.partitions.every((p) => p.lag === 0)
    if (startedAfterProducer && caughtUp) break
    if (Date.now() - startedAt > 60 * 60_000) throw new Error('soak: not caught up after an hour')
    await sleep(100)
  }
  await producing

  // From the outside: what the broker holds, what the processor did, the dead letters, the table.
  say('tallying')
  const reader = new Consumer({
    clientId: 'soak-reader',
    groupId: 'soak-reader',
    bootstrapBrokers: [bootstrapServers],
  })
  const ends = (await reader.listOffsets({ topics: [topic] })).get(topic) ?? []
  await reader.close()
  const inTopic = ends.flatMap((end, partition) =>
    Array.from({ length: Number(end) }, (_, offset) => ({ partition, offset })),
  )
  const letters = await collectDeadLetters({ topic: { bootstrapServers, topic: dlqTopic } })
  const row = await tally(scenario, inTopic, letters, await watch.stop(), 'soak')

  // Worst case per kill: messages a killed run processed that a later run processed again.
  const killedRuns = new Set(scenario.runs.filter((run) => run.killed).map((run) => run.runId))
  const firstRun = new Map<string, string>()
  const reprocessed = new Map<string, number>()
  for (const entry of scenario.processedLog()) {
    const id = `${entry.partition}:${entry.offset}`
    const first = firstRun.get(id)
    if (first === undefined) firstRun.set(id, entry.run)
    else if (first !== entry.run && killedRuns.has(first))
      reprocessed.set(first, (reprocessed.get(first) ?? 0) + 1)
  }
  const worst = Math.max(0, ...reprocessed.values())
  const minutes = Math.floor((Date.now() - startedAt) / 60_000)
  const seconds = Math.round(((Date.now() - startedAt) % 60_000) / 1000)

  process.stdout.write(
    [
      '',
      `Soak: ${total.toLocaleString('en')} messages on ${partitions} partitions, ${runs} scheduled runs ` +
        `(${kills} SIGKILLed, after a random number of messages or at a random moment), ${minutes} min ${seconds} s`,
      '',
      formatTable([row]),
      '',
      `  produced                          ${row.produced}`,
      `  processed                         ${row.processed}`,
      `  dead-lettered                     ${row.deadLettered}`,
      `  lost                              ${row.lost}`,
      `  duplicates                        ${row.duplicates}`,
      `  offsets regressed                 ${row.offsetsRegressed}`,
      `  worst-case reprocessing per kill  ${worst} (checkpoint every ${checkpointEvery} messages or 2 s)`,
      '',
    ].join('\n'),
  )
  const ok = row.lost === 0 && row.offsetsRegressed === 0 && row.pending === 0 && row.unexpected === 0
  exitCode = ok ? 0 : 1
  if (!ok) say(`FAILED: lost ${row.lost}, regressed ${row.offsetsRegressed}, pending ${row.pending}`)
} finally {
  FaultScenario.removeLogs()
  await stack.stop()
}
process.exit(exitCode)
