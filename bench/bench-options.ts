/**
 * The benchmark's flags (and their environment variables), for quick runs while working:
 * `npm run bench -- --scale 0.1 --repeat 1`. The defaults are the full issue-6 benchmark.
 */
import { parseArgs } from 'node:util'

export interface Scenario {
  readonly id: string
  readonly messages: number
  readonly sizeInBytes: number
  readonly partitions: number
}

export const SECTIONS = ['throughput', 'overhead', 'memory', 'shards', 'producer'] as const
export type Section = (typeof SECTIONS)[number]

/** The scenarios at full size; `--scale` multiplies the message counts. */
export const FULL_SCENARIOS: readonly Scenario[] = [
  { id: '200b-1p', messages: 1_000_000, sizeInBytes: 200, partitions: 1 },
  { id: '200b-8p', messages: 1_000_000, sizeInBytes: 200, partitions: 8 },
  { id: '200b-32p', messages: 1_000_000, sizeInBytes: 200, partitions: 32 },
  { id: '10kb-8p', messages: 100_000, sizeInBytes: 10_240, partitions: 8 },
]

/** The scenario whose figures the targets, the memory figures and the shard comparison use. */
export const REFERENCE_SCENARIO = '200b-8p'

export interface BenchOptions {
  readonly scale: number
  readonly repeat: number
  readonly coldRuns: number
  readonly warmPerProcess: number
  readonly sections: ReadonlySet<Section>
  readonly scenarios: readonly Scenario[]
  /** MAX_MESSAGES for the "drain in one invocation" runs. */
  readonly oneShotMaxMessages: number
  readonly writeResults: boolean
  /** Directory for `node --cpu-prof` profiles of the drain workers; unset: no profiling. */
  readonly cpuProfileDir?: string
}

export const USAGE = `Usage: npm run bench [-- options]

Runs the performance benchmark against a real Kafka broker and the DynamoDB API it starts,
with kcat as the baseline in the same run; prints the tables and writes bench/results/.

Options (environment variable in brackets):
  --scale F          multiply every scenario's message count by F, e.g. 0.1 for a quick run [BENCH_SCALE] (default 1)
  --repeat N         measure each throughput figure N times, report the median [BENCH_REPEAT] (default 3)
  --cold-runs N      cold invocations, each in a new process [BENCH_COLD_RUNS] (default 21)
  --warm N           warm invocations after each cold one (default 3; at least 20 in all)
  --only LIST        sections: ${SECTIONS.join(',')} (default all)
  --scenarios LIST   ${FULL_SCENARIOS.map((scenario) => scenario.id).join(',')} (default all)
  --no-write         print only; write nothing under bench/results/
  --cpu-prof DIR     profile every drain worker with node --cpu-prof into DIR (open in Chrome DevTools)
  --help`

export function parseBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scale: { type: 'string' },
      repeat: { type: 'string' },
      'cold-runs': { type: 'string' },
      warm: { type: 'string' },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      'no-write': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
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
    repeat: integerOption('--repeat', values.repeat ?? env.BENCH_REPEAT, 3, 1, 50),
    coldRuns: integerOption('--cold-runs', values['cold-runs'] ?? env.BENCH_COLD_RUNS, 21, 1, 500),
    warmPerProcess: integerOption('--warm', values.warm, 3, 1, 100),
    sections: new Set(sections),
    scenarios: FULL_SCENARIOS.filter((scenario) => scenarioIds.includes(scenario.id)).map((scenario) => ({
      ...scenario,
      messages: Math.max(1000, Math.round(scenario.messages * scale)),
    })),
    oneShotMaxMessages: 10_000_000,
    writeResults: values['no-write'] !== true,
    ...(values['cpu-prof'] && { cpuProfileDir: values['cpu-prof'] }),
  }
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
