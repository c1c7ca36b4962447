/**
 * The fault suite's harness: runs invocations as separate processes (so SIGKILL is real),
 * acts on them mid-run, watches the offsets table for regressions, and tallies a scenario
 * from the outside: the topic, the table, the processor's side effects, the dead letters.
 *
 * Definitions, per scenario (a message is identified by partition and offset):
 * - produced:      messages in the topic a consumer can read (committed, not deleted by retention);
 * - processed:     distinct messages the processor recorded;
 * - dead-lettered: distinct messages found in the dead-letter queue or topic;
 * - lost:          messages at or before their partition's stored offset (the consumer says it is
 *                  past them) that were neither processed nor dead-lettered;
 * - pending:       messages after the stored offset (not consumed yet; 0 when a scenario finishes);
 * - duplicates:    deliveries beyond the first (processed twice, dead-lettered twice, or both);
 * - offsets regressed: times a stored offset was seen to move backwards.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { RunReport } from '../../../src/lambda/handler.ts'
import { drainQueue } from '../../support/moto-server.ts'
import { readTopic, type TopicRecord } from '../../support/read-topic.ts'
import { storedItems, type TableLocation } from '../../support/services.ts'

const consumerProcess = resolve(import.meta.dirname, 'consumer-process.ts')

export interface RunOutcome {
  readonly runId: string
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Killed by the harness (SIGKILL), on purpose or at the invocation timeout. */
  readonly killed: boolean
  readonly report?: RunReport
  readonly failure?: { name: string; message: string }
  /** Messages this run's processor recorded. */
  readonly processed: number
  readonly output: string
}

export interface InvokeOptions {
  /** Extra environment for this run only. */
  readonly env?: Record<string, string>
  /** Once this run has processed `count` messages, do `action` (kill it, stop a service...). */
  readonly whenProcessed?: { readonly count: number; readonly action: (run: { kill(): void }) => unknown }
  /** SIGKILL the run after this long, as Lambda does at its timeout. */
  readonly killAfterMs?: number
}

export class FaultScenario {
  static readonly #logs: string[] = []

  /** Deletes the processor logs of every scenario made so far. */
  static removeLogs() {
    for (const path of FaultScenario.#logs.splice(0)) rmSync(path, { force: true })
  }

  readonly name: string
  readonly topic: string
  readonly consumerId: string
  readonly logPath: string
  readonly runs: RunOutcome[] = []
  /** The offsets table to check; default: the one the test setup started. */
  readonly table: TableLocation | undefined
  #env: Record<string, string>

  constructor(name: string, topic: string, env: Record<string, string>, table?: TableLocation) {
    this.table = table
    this.name = name
    this.topic = topic
    this.consumerId = `${env.KAFKA_GROUP_ID ?? 'lambda-consumer-group'}_${topic}`
    this.logPath = join(tmpdir(), `lkc-fault-${randomUUID()}.log`)
    writeFileSync(this.logPath, '')
    FaultScenario.#logs.push(this.logPath)
    this.#env = { KAFKA_TOPIC: topic, ...env }
  }

  /** Changes the environment of later runs (e.g. a DynamoDB endpoint). */
  setEnv(env: Record<string, string>) {
    this.#env = { ...this.#env, ...env }
  }

  /** One invocation, to its end (or its kill). */
  async invoke(options: InvokeOptions = {}): Promise<RunOutcome> {
    const runId = `r${this.runs.length + 1}-${randomUUID().slice(0, 6)}`
    const startSize = statSync(this.logPath).size
    const child = spawn(process.execPath, [consumerProcess], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...this.#env,
        ...options.env,
        FAULT_LOG: this.logPath,
        FAULT_RUN_ID: runId,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-200_000)
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    let killed = false
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true
        child.kill('SIGKILL')
      }
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
      child.once('exit', (code, signal) => resolveExit({ code, signal })),
    )
    const timeout = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs)
    let acted = false
    const watcher =
      options.whenProcessed === undefined
        ? undefined
        : setInterval(() => {
            if (acted) return
            if (this.#linesSince(startSize) >= options.whenProcessed!.count) {
              acted = true
              Promise.resolve(options.whenProcessed!.action({ kill })).catch(() => {})
            }
          }, 20)
    const { code, signal } = await exited
    clearTimeout(timeout)
    clearInterval(watcher)
    const lastLine = output.trim().split('\n').at(-1) ?? ''
    const outcome: RunOutcome = {
      runId,
      code,
      signal,
      killed,
      processed: this.#linesSince(startSize),
      output,
      ...(lastLine.startsWith('RESULT ') && { report: JSON.parse(lastLine.slice(7)) as RunReport }),
      ...(lastLine.startsWith('FAILED ') && {
        failure: JSON.parse(lastLine.slice(7)) as { name: string; message: string },
      }),
    }
    this.runs.push(outcome)
    return outcome
  }

  /** Several invocations started at the same moment. */
  async invokeTogether(count: number): Promise<RunOutcome[]> {
    return Promise.all(Array.from({ length: count }, () => this.invoke()))
  }

  /**
   * Invokes until a run finishes cleanly with nothing left (caught up, no failure), waiting
   * out a lease held by a killed run. Throws after `maxRuns`.
   */
  async untilCaughtUp(maxRuns = 30): Promise<void> {
    for (let run = 0; run < maxRuns; run++) {
      const outcome = await this.invoke()
      const report = outcome.report
      if (report?.stopReason === 'lease-held') {
        await new Promise((wait) => setTimeout(wait, 500))
        continue
      }
      if (
        report !== undefined &&
        report.stopReason === 'caught-up' &&
        report.failures.length === 0 &&
        report.partitions.every((partition) => partition.lag === 0)
      ) {
        return
      }
    }
    throw new Error(
      `${this.name}: not caught up after ${maxRuns} runs. Last output:\n${this.runs.at(-1)?.output.slice(-3000)}`,
    )
  }

  /** What the processor recorded, one entry per call that returned. */
  processedLog(): Array<{ run: string; partition: number; offset: number; key: string }> {
    return readFileSync(this.logPath, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [run, partition, offset, key] = line.split('\t')
        return { run: run!, partition: Number(partition), offset: Number(offset), key: key ?? '' }
      })
  }

  #linesSince(startSize: number): number {
    const size = statSync(this.logPath).size
    if (size <= startSize) return 0
    const buffer = Buffer.alloc(size - startSize)
    const fd = openSync(this.logPath, 'r')
    try {
      readSync(fd, buffer, 0, buffer.length, startSize)
    } finally {
      closeSync(fd)
    }
    let lines = 0
    for (const byte of buffer) if (byte === 0x0a) lines++
    return lines
  }
}

/** Polls the offsets table, counting every time a stored offset is seen to move backwards. */
export function watchOffsets(consumerId: string, everyMs = 100, table?: TableLocation) {
  const highest = new Map<number, number>()
  let regressions = 0
  let stopped = false
  const poll = async () => {
    while (!stopped) {
      try {
        for (const item of await storedItems(consumerId, table)) {
          const before = highest.get(item.partition)
          if (before !== undefined && item.offset < before) regressions++
          else highest.set(item.partition, item.offset)
        }
      } catch {
        // the table is read directly, not through a blocked proxy; a failed poll is just skipped
      }
      await new Promise((wait) => setTimeout(wait, everyMs))
    }
  }
  const polling = poll()
  return {
    async stop(): Promise<number> {
      stopped = true
      await polling
      return regressions
    },
  }
}

export interface DeadLetterRef {
  readonly partition: number
  readonly offset: number
}

/** Dead letters found in an SQS queue (taken off it) and in a Kafka topic. */
export async function collectDeadLetters(sources: {
  sqs?: { endpoint: string; queueUrl: string }
  topic?: { bootstrapServers: string; topic: string }
}): Promise<DeadLetterRef[]> {
  const letters: DeadLetterRef[] = []
  if (sources.sqs) {
    for (const message of await drainQueue(sources.sqs.endpoint, sources.sqs.queueUrl)) {
      const body = message.body as { partition: number; offset: number }
      letters.push({ partition: body.partition, offset: body.offset })
    }
  }
  if (sources.topic) {
    for (const record of await readTopic(sources.topic.bootstrapServers, sources.topic.topic)) {
      const header = (name: string) => record.headers.find(([key]) => key.toString() === name)?.[1].toString()
      letters.push({ partition: Number(header('dlq.partition')), offset: Number(header('dlq.offset')) })
    }
  }
  return letters
}

export interface Tally {
  readonly scenario: string
  readonly produced: number
  readonly processed: number
  readonly deadLettered: number
  readonly lost: number
  readonly duplicates: number
  readonly offsetsRegressed: number
  /** Not consumed yet (after the stored offset). */
  readonly pending: number
  /** Processed messages that are not in `produced` (aborted transactions, deleted records). */
  readonly unexpected: number
}

export async function tally(
  scenario: FaultScenario,
  produced: readonly Pick<TopicRecord, 'partition' | 'offset'>[],
  deadLetters: readonly DeadLetterRef[],
  offsetsRegressed: number,
  label = scenario.name,
): Promise<Tally> {
  const id = (message: { partition: number; offset: number }) => `${message.partition}:${message.offset}`
  const stored = new Map(
    (await storedItems(scenario.consumerId, scenario.table)).map((item) => [item.partition, item.offset]),
  )
  const processedCounts = new Map<string, number>()
  for (const entry of scenario.processedLog())
    processedCounts.set(id(entry), (processedCounts.get(id(entry)) ?? 0) + 1)
  const letterCounts = new Map<string, number>()
  for (const letter of deadLetters) letterCounts.set(id(letter), (letterCounts.get(id(letter)) ?? 0) + 1)
  let lost = 0
  let pending = 0
  const producedIds = new Set(produced.map(id))
  for (const message of produced) {
    if (processedCounts.has(id(message)) || letterCounts.has(id(message))) continue
    if (message.offset <= (stored.get(message.partition) ?? -1)) lost++
    else pending++
  }
  let duplicates = 0
  for (const count of processedCounts.values()) duplicates += count - 1
  for (const [key, count] of letterCounts) duplicates += count - 1 + (processedCounts.has(key) ? 1 : 0)
  const unexpected = [...processedCounts.keys(), ...letterCounts.keys()].filter(
    (key) => !producedIds.has(key),
  ).length
  return {
    scenario: label,
    produced: produced.length,
    processed: [...processedCounts.keys()].filter((key) => producedIds.has(key)).length,
    deadLettered: [...letterCounts.keys()].filter((key) => producedIds.has(key)).length,
    lost,
    duplicates,
    offsetsRegressed,
    pending,
    unexpected,
  }
}

const COLUMNS = [
  'scenario',
  'produced',
  'processed',
  'dead-lettered',
  'lost',
  'duplicates',
  'offsets regressed',
] as const

export function formatRow(row: Tally, scenarioWidth: number): string {
  const cells = [
    row.scenario.padEnd(scenarioWidth),
    String(row.produced).padStart(COLUMNS[1].length),
    String(row.processed).padStart(COLUMNS[2].length),
    String(row.deadLettered).padStart(COLUMNS[3].length),
    String(row.lost).padStart(COLUMNS[4].length),
    String(row.duplicates).padStart(COLUMNS[5].length),
    String(row.offsetsRegressed).padStart(COLUMNS[6].length),
  ]
  return cells.join(' | ')
}

export function formatTable(rows: readonly Tally[]): string {
  const width = Math.max(COLUMNS[0].length, ...rows.map((row) => row.scenario.length))
  const header = [COLUMNS[0].padEnd(width), ...COLUMNS.slice(1)].join(' | ')
  const rule = header.replace(/[^|]/g, '-')
  return [header, rule, ...rows.map((row) => formatRow(row, width))].join('\n')
}
