/**
 * The benchmark's flags (and their environment variables), for quick runs while working:
 * `npm run bench -- --scale 0.1 --repeat 1`. The defaults are the full benchmark of issue 14.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'

export interface Scenario {
  readonly id: string
  readonly messages: number
  readonly sizeInBytes: number
  readonly partitions: number
}

export const SECTIONS = ['throughput', 'overhead', 'memory', 'io', 'shards', 'producer'] as const
export type Section = (typeof SECTIONS)[number]

/**
 * The drains of each throughput scenario:
 * - `kcat`: `kcat -C -o beginning -e -q`, the native baseline;
 * - `python`: the seed's design in Python (confluent-kafka, boto3), the second baseline;
 * - `async`, `sync`: the bundled handler draining the backlog in one invocation, with an async
 *   no-op processor (the README's form: the real path) and a synchronous one;
 * - `async-1000`, `sync-1000`: the same at the default MAX_MESSAGES=1000, invocations back to back;
 * - `default-warn`: the bundle's default handler (it logs each message) at LOG_LEVEL=WARN, on the
 *   reference scenario only (what it costs does not depend on the partitions);
 * - `best-case`: issue 6's figure: the synchronous processor, DynamoDB at no added latency, the
 *   drain alone (the clock started after the import).
 */
export const RUNS = [
  'kcat',
  'python',
  'async',
  'sync',
  'async-1000',
  'sync-1000',
  'default-warn',
  'best-case',
] as const
export type RunId = (typeof RUNS)[number]

/** The scenarios at full size; `--scale` multiplies the message counts. */
export const FULL_SCENARIOS: readonly Scenario[] = [
  { id: '200b-1p', messages: 1_000_000, sizeInBytes: 200, partitions: 1 },
  { id: '200b-8p', messages: 1_000_000, sizeInBytes: 200, partitions: 8 },
  { id: '200b-32p', messages: 1_000_000, sizeInBytes: 200, partitions: 32 },
  { id: '10kb-8p', messages: 100_000, sizeInBytes: 10_240, partitions: 8 },
]

/** The scenario whose figures the targets, the memory figures and the shard comparison use. */
export const REFERENCE_SCENARIO = '200b-8p'

/** The memory section's label for the reference drain run with PARTITION_CONCURRENCY=1. */
export const ONE_AT_A_TIME = 'whole backlog, PARTITION_CONCURRENCY=1'

/** A round trip to DynamoDB in a Region, as the latency proxy adds it (see bench/README.md). */
export const DEFAULT_DYNAMODB_LATENCY_MS = 4

export interface BenchOptions {
  readonly scale: number
  /** Measurements of each figure of the reference scenario (the targets' medians). */
  readonly repeat: number
  /** At most this many of the other scenarios'. */
  readonly repeatOthers: number
  readonly coldRuns: number
  readonly warmPerProcess: number
  readonly sections: ReadonlySet<Section>
  readonly scenarios: readonly Scenario[]
  readonly runs: ReadonlySet<RunId>
  /** Added to every DynamoDB request on the real path, ms. */
  readonly dynamodbLatencyMs: number
  /** MAX_MESSAGES for the "drain in one invocation" runs. */
  readonly oneShotMaxMessages: number
  /** Invocations measured back to back at MAX_MESSAGES=1000 (the backlog's first messages). */
  readonly defaultRunInvocations: number
  readonly writeResults: boolean
  /** Directory for `node --cpu-prof` profiles of the drain workers; unset: no profiling. */
  readonly cpuProfileDir?: string
  /** Directory for the drain workers' `--trace-gc` output; unset: none. */
  readonly traceGcDir?: string
  /**
   * Another build's self-contained bundle (`node scripts/build-lambda.ts --self-contained
   * --outfile ...` run in a checkout of it), drained beside each throughput run, interleaved, its
   * medians logged (profiles and GC traces labelled `-B`): a before and after under the same load.
   */
  readonly compareWith?: string
}

export const USAGE = `Usage: npm run bench [-- options]

Runs the performance benchmark against a real Kafka broker and the DynamoDB API it starts
(in a process of its own, behind a proxy adding a DynamoDB-like latency), with kcat and the
seed's design in Python as baselines in the same run; prints the tables and writes bench/results/.

Options (environment variable in brackets):
  --scale F            multiply every scenario's message count by F, e.g. 0.1 for a quick run [BENCH_SCALE] (default 1)
  --repeat N           measure each figure N times, report the median [BENCH_REPEAT] (default 5)
  --repeat-others N    at most N times for the scenarios other than ${REFERENCE_SCENARIO} (default 3)
  --cold-runs N        cold invocations, each in a new process [BENCH_COLD_RUNS] (default 21)
  --warm N             warm invocations after each cold one (default 3; at least 20 in all)
  --only LIST          sections: ${SECTIONS.join(',')} (default all)
  --scenarios LIST     ${FULL_SCENARIOS.map((scenario) => scenario.id).join(',')} (default all)
  --runs LIST          throughput drains: ${RUNS.join(',')} (default all)
  --dynamodb-latency-ms N  added to each DynamoDB request on the real path [BENCH_DYNAMODB_LATENCY_MS] (default ${DEFAULT_DYNAMODB_LATENCY_MS})
  --no-write           print only; write nothing under bench/results/
  --cpu-prof DIR       profile every drain worker with node --cpu-prof into DIR, and summarise each profile
  --trace-gc DIR       run every drain worker with node --trace-gc, its output and a summary in DIR
  --compare-with FILE  drain another build's self-contained bundle beside each throughput run (interleaved), log both medians
  --help`

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scale: { type: 'string' },
      repeat: { type: 'string' },
      'repeat-others': { type: 'string' },
      'cold-runs': { type: 'string' },
      warm: { type: 'string' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      runs: { type: 'string' },
      'dynamodb-latency-ms': { type: 'string' },
      'no-write': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      'trace-gc': { type: 'string' },
      'compare-with': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  if (values.help) return 'help'
  const scale = numberOption('--scale', values.scale ?? env.BENCH_SCALE, 1, 0.0001, 10)
  const sections = listOption('--only', values.only, SECTIONS)
  const scenarioIds = listOption(
    '--scenarios',
    values.scenarios,
    FULL_SCENARIOS.map((scenario) => scenario.id),
  )
  return {
    scale,
    repeat: integerOption('--repeat', values.repeat ?? env.BENCH_REPEAT, 5, 1, 50),
    repeatOthers: integerOption('--repeat-others', values['repeat-others'], 3, 1, 50),
    coldRuns: integerOption('--cold-runs', values['cold-runs'] ?? env.BENCH_COLD_RUNS, 21, 1, 500),
    warmPerProcess: integerOption('--warm', values.warm, 3, 1, 100),
    sections: new Set(sections),
    scenarios: FULL_SCENARIOS.filter((scenario) => scenarioIds.includes(scenario.id)).map((scenario) => ({
      ...scenario,
      messages: Math.max(1000, Math.round(scenario.messages * scale)),
    })),
    runs: new Set(listOption('--runs', values.runs, RUNS)),
    dynamodbLatencyMs: numberOption(
      '--dynamodb-latency-ms',
      values['dynamodb-latency-ms'] ?? env.BENCH_DYNAMODB_LATENCY_MS,
      DEFAULT_DYNAMODB_LATENCY_MS,
      0,
      1000,
    ),
    oneShotMaxMessages: 10_000_000,
    defaultRunInvocations: 50,
    writeResults: values['no-write'] !== true,
    ...(values['cpu-prof'] && { cpuProfileDir: values['cpu-prof'] }),
    ...(values['trace-gc'] && { traceGcDir: values['trace-gc'] }),
    ...(values['compare-with'] && { compareWith: resolve(values['compare-with']) }),
  }
}

/** How many times a scenario's figures are measured. */
export function repeatsOf(options: BenchOptions, scenario: Scenario): number {
  return scenario.id === REFERENCE_SCENARIO ? options.repeat : Math.min(options.repeat, options.repeatOthers)
}

function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number) {
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}; got "${raw}"`)
  }
  return value
}

function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max: number) {
  const value = numberOption(name, raw, fallback, min, max)
  if (!Number.isInteger(value)) throw new Error(`${name} must be a whole number; got "${raw}"`)
  return value
}

function listOption<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed]
  const chosen = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
  const unknown = chosen.filter((item) => !(allowed as readonly string[]).includes(item))
  if (unknown.length > 0 || chosen.length === 0) {
    throw new Error(`${name} takes a comma-separated list of: ${allowed.join(', ')}; got "${raw}"`)
  }
  return chosen as T[]
}
