/**
 * `npm run bench`: the performance benchmark (issues 6 and 14). A benchmark, not a test: it
 * prints and records, it asserts nothing. Against the real Kafka broker the project starts and
 * the DynamoDB API (dynalite) in a process of its own behind a proxy that adds a DynamoDB-like
 * latency to each request, with kcat and the seed's design in Python as baselines on the same
 * topics in the same run:
 *   - throughput through the bundled handler, each drain measured inside the process and as the
 *     whole process (Node's start and the import included): an async processor (the README's
 *     form) and a synchronous one, in one invocation and at the default MAX_MESSAGES, the
 *     default logging handler at LOG_LEVEL=WARN, and issue 6's best case beside them;
 *   - cold and warm invocation overhead with nothing new (DynamoDB and Kafka requests counted),
 *     bundle size and import time;
 *   - peak RSS with Lambda's heap flags, DynamoDB requests per invocation;
 *   - an I/O-bound processor (5 ms per message); 1 and 2 shards side by side; the producers.
 * Writes bench/results/<date>.{json,md,svg} and the summary in bench/README.md.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { build, type Metafile } from 'esbuild'
import { bundleEntry, entryBuildOptions } from '../infra/entry-bundle.ts'
import { bundleLambda } from '../scripts/build-lambda.ts'
import { buildLayer } from '../scripts/build-layer.ts'
import { lambdaHeapFlags } from '../scripts/lambda-node-flags.ts'
import { createSender, createTopic } from '../src/kafka/topics.ts'
import { type KafkaBroker, startKafkaBroker } from '../src/local/kafka-broker.ts'
import { createOffsetsTable } from '../src/offsets/offsets-table.ts'
import { dynamoDbClientConfig } from '../src/runtime/create-runtime.ts'
import {
  type BenchOptions,
  ONE_AT_A_TIME,
  parseBenchOptions,
  REFERENCE_SCENARIO,
  type RunId,
  repeatsOf,
  type Scenario,
  USAGE,
} from './bench-options.ts'
import type {
  BenchResults,
  BundleComposition,
  ColdWarm,
  DrainRunResult,
  IoBoundResult,
  KcatResult,
  MemoryResult,
  MemoryRow,
  ProducerResult,
  PythonResult,
  Rate,
  Ratios,
  RequestCounts,
  ShardsResult,
  ThroughputResult,
} from './bench-results.ts'
import { countsBetween, type OperationCounts } from './counting-dynamodb-server.ts'
import { type DynamoDbSide, startDynamoDbSide } from './dynamodb-side.ts'
import { consumeWithKcat, ensureKcat, produceWithKcat } from './kcat.ts'
import { payloadLines } from './payloads.ts'
import { summariseProfiles } from './profile-summary.ts'
import { ensureSeedDesign, runSeedDesign, type SeedDesignRun } from './python-baseline.ts'
import { checkTargets, renderMarkdown, withResultsSection } from './report.ts'
import { median, type Spread, spreadOf } from './stats.ts'
import { renderThroughputChart } from './svg-chart.ts'
import { summariseGcTraces } from './trace-gc-summary.ts'
import {
  type DrainResult,
  type InvocationRequests,
  type InvocationsResult,
  type ProcessorKind,
  WORKER_JOB_VARIABLE,
  type WorkerJob,
  type WorkerMessage,
} from './worker-protocol.ts'

const root = resolve(import.meta.dirname, '..')
/**
 * The worker runs as plain JavaScript, as Lambda runs the bundle: a .ts entry would make Node
 * load its TypeScript stripper (WebAssembly) in every measured process, adding tens of MB of
 * RSS and milliseconds of start-up that Lambda never pays.
 */
const workerPath = join(root, 'dist/bench/consumer-worker.mjs')
const TABLE = 'kafka-consumer-offsets'
/** The default MAX_MESSAGES (the seed's 1000). */
const DEFAULT_MAX_MESSAGES = 1000
/** The pause before each throughput measurement, for the broker to finish the previous one's work. */
const SETTLE_MS = 500
/** The function's memory in the stack, MB. */
const FUNCTION_MEMORY_MB = 512
/** The I/O-bound scenario: messages over partitions, each awaited this long by the processor. */
const IO_BOUND = { messages: 1000, partitions: 8, waitPerMessageMs: 5 } as const

const log = (line: string) =>
  process.stderr.write(`\x1b[2m[bench ${new Date().toISOString().slice(11, 19)}]\x1b[0m ${line}\n`)

interface BuiltBundle {
  readonly path: string
  /** What a cold start loads: the handler's file and the chunks it imports statically. */
  readonly bytes: number
  readonly gzipBytes: number
  /** In chunks/ beside it, loaded only by the settings that use them. */
  readonly lazyBytes: number
}

/** The bundles whose cold start is measured (`self-contained` also drains every throughput scenario). */
export type BundleKind = ColdWarm['bundle']

interface Bundles {
  readonly selfContained: BuiltBundle & { readonly metafile: Metafile }
  /** As the construct deploys the default handler (an entry): its bundle, the Kafka client from the layer. */
  readonly construct: BuiltBundle
  /** The same entry in one file, as NodejsFunction bundled it (before issue 14): nothing split off. */
  readonly oneFile: BuiltBundle
  /** The built layer's node_modules, for NODE_PATH. */
  readonly nodePath: string
}

interface Stack {
  readonly broker: KafkaBroker
  readonly dynamodb: DynamoDbSide
  /**
   * The environment every worker gets: the function's configuration, as Lambda would set it,
   * DynamoDB through the latency proxy (the real path).
   */
  readonly env: Readonly<Record<string, string>>
}

/** Set from `--cpu-prof` and `--trace-gc`: where the drain workers write their profiles and GC traces. */
let cpuProfileDir: string | undefined
let traceGcDir: string | undefined

async function main(): Promise<void> {
  const parsed = parseBenchOptions(process.argv.slice(2), process.env)
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const options = parsed
  if (options.cpuProfileDir !== undefined) cpuProfileDir = resolve(options.cpuProfileDir)
  if (options.traceGcDir !== undefined) traceGcDir = resolve(options.traceGcDir)
  for (const directory of [cpuProfileDir, traceGcDir]) {
    if (directory !== undefined) await mkdir(directory, { recursive: true })
  }
  const startedAt = new Date()
  const loadAverageAtStart = os.loadavg()
  const kcat = ensureKcat(log)
  const python = options.runs.has('python') ? ensureSeedDesign() : undefined
  log(
    `${kcat}; ${python ?? 'no Python baseline'}; load average ${loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}`,
  )

  const bundles = await buildBundles()
  log(
    `bundles loaded at a cold start: self-contained ${kib(bundles.selfContained.bytes)}, the construct's ${kib(bundles.construct.bytes)} (+ ${kib(bundles.construct.lazyBytes)} in chunks loaded when used), one file as NodejsFunction made it ${kib(bundles.oneFile.bytes)} (both with the Kafka client from the built layer)`,
  )

  log(
    `starting the Kafka broker, and the DynamoDB API in its own process behind a proxy adding ${options.dynamodbLatencyMs} ms per request`,
  )
  const dynamodb = await startDynamoDbSide(options.dynamodbLatencyMs)
  let broker: KafkaBroker
  try {
    broker = await startKafkaBroker()
  } catch (error) {
    await dynamodb.stop()
    throw error
  }
  const stack: Stack = {
    broker,
    dynamodb,
    env: {
      KAFKA_BOOTSTRAP_SERVERS: broker.bootstrapServers,
      DYNAMODB_ENDPOINT: dynamodb.proxyEndpoint,
      DYNAMODB_TABLE: TABLE,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
  }
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig({ dynamodbEndpoint: dynamodb.endpoint }, {}))
    await createOffsetsTable(client, TABLE)
    client.destroy()

    const throughput: ThroughputResult[] = []
    const topics = new Map<string, string>()
    const needsReference = options.sections.has('shards') || options.sections.has('memory')
    for (const scenario of options.scenarios) {
      if (!options.sections.has('throughput') && !(needsReference && scenario.id === REFERENCE_SCENARIO))
        continue
      const { topic, produce } = await prepareTopic(stack, scenario)
      topics.set(scenario.id, topic)
      if (options.sections.has('throughput')) {
        throughput.push(await measureThroughput(stack, bundles, options, scenario, topic, produce))
      }
    }

    const overhead: ColdWarm[] = []
    let kcatFixedMs: Spread | undefined
    if (options.sections.has('overhead')) {
      const idleTopic = await prepareIdleTopic(stack, bundles)
      for (const kind of ['construct', 'one-file', 'self-contained'] as const) {
        overhead.push(await measureOverhead(stack, bundles, options, kind, idleTopic))
      }
      const kcatRuns: number[] = []
      for (let run = 0; run < 5; run++)
        kcatRuns.push((await consumeWithKcat(stack.broker.bootstrapServers, idleTopic)).elapsedMs)
      kcatFixedMs = spreadOf(kcatRuns)
      log(`kcat on the 800-message topic: ${ms(kcatFixedMs.median)} from start to exit`)
    }

    const reference = options.scenarios.find((scenario) => scenario.id === REFERENCE_SCENARIO)
    const referenceTopic = topics.get(REFERENCE_SCENARIO)
    let memory: MemoryResult | undefined
    if (options.sections.has('memory') && reference && referenceTopic) {
      memory = await measureMemory(stack, bundles, options, reference, referenceTopic)
    }

    let ioBound: IoBoundResult | undefined
    if (options.sections.has('io')) ioBound = await measureIoBound(stack, bundles, options)

    let shards: ShardsResult | undefined
    if (options.sections.has('shards') && reference && referenceTopic) {
      shards = await measureShards(stack, bundles, options, reference, referenceTopic)
    }

    let producer: ProducerResult | undefined
    if (options.sections.has('producer')) producer = await measureProducers(stack, options)

    const holds = await dynamodb.holds()
    const partial = {
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryMb: Math.round(os.totalmem() / 2 ** 20),
        loadAverageAtStart: rounded(loadAverageAtStart),
        loadAverageAtEnd: rounded(os.loadavg()),
        node: process.version,
        kcat,
        ...(python && { python }),
        commit: gitDescribe(),
      },
      options: {
        scale: options.scale,
        repeat: options.repeat,
        repeatOthers: options.repeatOthers,
        coldRuns: options.coldRuns,
        warmPerProcess: options.warmPerProcess,
        dynamodbLatencyMs: options.dynamodbLatencyMs,
        defaultRunInvocations: options.defaultRunInvocations,
      },
      dynamodbProxy: {
        requests: holds.count,
        meanHeldMs: round(holds.meanMs, 2),
        maxHeldMs: round(holds.maxMs),
      },
      throughput,
      overhead,
      composition: [composition('self-contained', bundles.selfContained)],
      ...(memory && { memory }),
      ...(ioBound && { ioBound }),
      ...(shards && { shards }),
      ...(producer && { producer }),
      ...(kcatFixedMs && { kcatFixedMs }),
    }
    const results: BenchResults = { ...partial, targets: checkTargets(partial) }
    await publish(results, options)
  } finally {
    log('stopping the broker and the DynamoDB API')
    await Promise.allSettled([broker.stop(), dynamodb.stop()])
  }
  if (cpuProfileDir !== undefined) {
    const summary = await summariseProfiles(cpuProfileDir)
    process.stdout.write(`\n${summary}\n`)
    log(`CPU profiles and their summary (summary.md) in ${cpuProfileDir}`)
  }
  if (traceGcDir !== undefined) {
    const summary = await summariseGcTraces(traceGcDir)
    process.stdout.write(`\n${summary}\n`)
    log(`GC traces and their summary (summary.md) in ${traceGcDir}`)
  }
}

async function buildBundles(): Promise<Bundles> {
  await build({
    entryPoints: [join(import.meta.dirname, 'consumer-worker.ts')],
    outfile: workerPath,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'warning',
  })
  const selfContainedPath = join(root, 'dist/bench/self-contained/index.mjs')
  const { metafile } = await bundleLambda({ selfContained: true, outfile: selfContainedPath })
  // As Lambda runs the construct's bundle: alone in a task folder (no node_modules above it), the
  // client from the layer this machine's architecture would get, through NODE_PATH.
  const entry = join(root, 'src/lambda/default-handler.ts')
  const constructDir = await mkdtemp(join(os.tmpdir(), 'lkc-bench-task-'))
  bundleEntry({ entry, outdir: constructDir, projectRoot: root })
  const oneFileDir = await mkdtemp(join(os.tmpdir(), 'lkc-bench-task-'))
  const {
    entryPoints: _split,
    outdir: _outdir,
    chunkNames: _chunks,
    ...asOneFile
  } = entryBuildOptions({
    entry,
    outdir: oneFileDir,
    projectRoot: root,
  })
  await build({
    ...asOneFile,
    entryPoints: [entry],
    splitting: false,
    outfile: join(oneFileDir, 'index.mjs'),
  })
  const layerBuild = await buildLayer({
    architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
    outDir: join(root, 'dist/bench/layer-opt'),
  })
  return {
    selfContained: { ...(await sizesOf(selfContainedPath)), metafile },
    construct: await sizesOf(join(constructDir, 'index.mjs')),
    oneFile: await sizesOf(join(oneFileDir, 'index.mjs')),
    nodePath: join(layerBuild.dir, 'nodejs/node_modules'),
  }
}

/** A bundle's size as a cold start sees it: its file and the chunks it imports statically, transitively. */
async function sizesOf(path: string): Promise<BuiltBundle> {
  const dir = dirname(path)
  const loaded = new Set<string>()
  const visit = async (file: string) => {
    if (loaded.has(file)) return
    loaded.add(file)
    const code = await readFile(file, 'utf8')
    for (const match of code.matchAll(/(?:^|[;\s}])import(?:[^"'()]*?from)?\s*"(\.\.?\/[^"]+)"/g)) {
      await visit(resolve(dirname(file), match[1]!))
    }
  }
  await visit(path)
  const contents = await Promise.all([...loaded].map((file) => readFile(file)))
  const bytes = contents.reduce((sum, content) => sum + content.length, 0)
  const chunksDir = join(dir, 'chunks')
  let lazyBytes = 0
  for (const name of existsSync(chunksDir) ? await readdir(chunksDir) : []) {
    const file = join(chunksDir, name)
    if (name.endsWith('.mjs') && !loaded.has(file)) lazyBytes += (await stat(file)).size
  }
  return { path, bytes, gzipBytes: gzipSync(Buffer.concat(contents)).length, lazyBytes }
}

/** A fresh topic filled with the scenario's messages by kcat; returns how long producing took. */
async function prepareTopic(stack: Stack, scenario: Scenario) {
  const topic = `bench-${scenario.id}-${Date.now().toString(36)}`
  await createTopic({
    bootstrapServers: [stack.broker.bootstrapServers],
    topic,
    partitions: scenario.partitions,
  })
  log(
    `${scenario.id}: producing ${scenario.messages.toLocaleString('en-US')} x ${scenario.sizeInBytes} B with kcat`,
  )
  const ms = await produceWithKcat(
    stack.broker.bootstrapServers,
    topic,
    payloadLines(scenario.messages, scenario.sizeInBytes),
  )
  const produce = {
    tool: 'kcat -P',
    ms: round(ms),
    messagesPerSecond: Math.round((scenario.messages / ms) * 1000),
  }
  log(
    `${scenario.id}: produced in ${(ms / 1000).toFixed(1)} s (${produce.messagesPerSecond.toLocaleString('en-US')} msgs/s)`,
  )
  return { topic, produce }
}

/** How one of the bundled handler's drains is run. */
interface DrainPlan {
  readonly run: RunId
  readonly processor: ProcessorKind
  readonly env: Readonly<Record<string, string>>
  readonly dynamodbLatencyMs: number
  readonly maxMessages: number
  readonly maxInvocations: number
  readonly expectMessages: number
  readonly logLevel?: string
}

function drainPlans(stack: Stack, options: BenchOptions, scenario: Scenario): DrainPlan[] {
  const oneInvocation = {
    maxMessages: options.oneShotMaxMessages,
    maxInvocations: scenario.messages + 10,
    expectMessages: scenario.messages,
  }
  const invocations = Math.min(
    options.defaultRunInvocations,
    Math.ceil(scenario.messages / DEFAULT_MAX_MESSAGES),
  )
  const byDefault = {
    maxMessages: DEFAULT_MAX_MESSAGES,
    maxInvocations: invocations,
    expectMessages: Math.min(scenario.messages, invocations * DEFAULT_MAX_MESSAGES),
  }
  const latency = options.dynamodbLatencyMs
  const all: DrainPlan[] = [
    { run: 'async', processor: 'async', env: {}, dynamodbLatencyMs: latency, ...oneInvocation },
    { run: 'sync', processor: 'sync', env: {}, dynamodbLatencyMs: latency, ...oneInvocation },
    { run: 'async-1000', processor: 'async', env: {}, dynamodbLatencyMs: latency, ...byDefault },
    { run: 'sync-1000', processor: 'sync', env: {}, dynamodbLatencyMs: latency, ...byDefault },
    {
      run: 'default-warn',
      processor: 'default',
      env: { LOG_LEVEL: 'WARN' },
      logLevel: 'WARN',
      dynamodbLatencyMs: latency,
      ...oneInvocation,
    },
    {
      run: 'best-case',
      processor: 'sync',
      env: { DYNAMODB_ENDPOINT: stack.dynamodb.endpoint },
      dynamodbLatencyMs: 0,
      ...oneInvocation,
    },
  ]
  return all.filter(
    (plan) =>
      options.runs.has(plan.run) && (plan.run !== 'default-warn' || scenario.id === REFERENCE_SCENARIO),
  )
}

async function measureThroughput(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  scenario: Scenario,
  topic: string,
  produce: ThroughputResult['produce'],
): Promise<ThroughputResult> {
  const repeats = repeatsOf(options, scenario)
  const kcatRuns: Array<{ elapsedMs: number; peakRssKb: number }> = []
  const pythonRuns: SeedDesignRun[] = []
  const plans = drainPlans(stack, options, scenario)
  const drains = new Map<RunId, DrainMeasurement[]>(plans.map((plan) => [plan.run, []]))
  const measurements: Array<() => Promise<void>> = []
  if (options.runs.has('kcat')) {
    measurements.push(async () => {
      kcatRuns.push(await consumeWithKcat(stack.broker.bootstrapServers, topic))
    })
  }
  if (options.runs.has('python')) {
    measurements.push(async () => {
      const run = await runSeedDesign({
        ...stack.env,
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: `bench-${++groupSequence}`,
        MAX_MESSAGES: String(options.oneShotMaxMessages),
      })
      if (run.messages !== scenario.messages) {
        throw new Error(
          `${scenario.id}: the Python baseline processed ${run.messages} messages, not ${scenario.messages}`,
        )
      }
      pythonRuns.push(run)
    })
  }
  for (const plan of plans) {
    measurements.push(async () => {
      drains.get(plan.run)!.push(
        await drain(
          stack,
          bundles.selfContained.path,
          scenario,
          topic,
          plan.processor,
          `${scenario.id}-${plan.run}`,
          {
            env: { ...plan.env, MAX_MESSAGES: String(plan.maxMessages) },
            maxInvocations: plan.maxInvocations,
            expectMessages: plan.expectMessages,
          },
        ),
      )
    })
  }
  // `--compare-with`: another build's bundle drained the same way, interleaved with these.
  const compared = new Map<RunId, number[]>()
  const other = options.compareWith
  if (other !== undefined) {
    for (const plan of plans) {
      measurements.push(async () => {
        const measured = await drain(
          stack,
          other,
          scenario,
          topic,
          plan.processor,
          `${scenario.id}-${plan.run}-B`,
          {
            env: { ...plan.env, MAX_MESSAGES: String(plan.maxMessages) },
            maxInvocations: plan.maxInvocations,
            expectMessages: plan.expectMessages,
          },
        )
        compared.set(plan.run, [...(compared.get(plan.run) ?? []), measured.result.elapsedMs])
        log(`${scenario.id} ${plan.run}-B (--compare-with): ${ms(measured.result.elapsedMs)}`)
      })
    }
  }
  for (let repeat = 1; repeat <= repeats; repeat++) {
    // Interleaved, so that a change in the machine's load hits all alike, and in a rotating
    // order with a pause before each, so that none always runs in the wake of another (the
    // broker's own work after a drain: its garbage collection, its caches).
    for (let step = 0; step < measurements.length; step++) {
      await sleep(SETTLE_MS)
      await measurements[(repeat - 1 + step) % measurements.length]!()
    }
    const parts = [
      ...(kcatRuns.length > 0 ? [`kcat ${ms(kcatRuns.at(-1)!.elapsedMs)}`] : []),
      ...(pythonRuns.length > 0 ? [`Python ${ms(pythonRuns.at(-1)!.wallMs)}`] : []),
      ...plans.map((plan) => {
        const last = drains.get(plan.run)!.at(-1)!
        return `${plan.run} ${ms(last.result.elapsedMs)} (whole ${ms(last.wallMs)}, ${rssMb(last.result.maxRssKb)} MB)`
      }),
    ]
    log(`${scenario.id} #${repeat}/${repeats}: ${parts.join(', ')}`)
  }
  for (const [run, times] of compared) {
    const these = median(drains.get(run)!.map((measured) => measured.result.elapsedMs))
    log(`${scenario.id} ${run}, drain medians: this build ${ms(these)}, --compare-with ${ms(median(times))}`)
  }
  const kcat: KcatResult | undefined =
    kcatRuns.length === 0
      ? undefined
      : {
          wholeProcess: rateOf(
            kcatRuns.map((run) => run.elapsedMs),
            scenario.messages,
            scenario.sizeInBytes,
          ),
          peakRssMb: spreadOf(kcatRuns.map((run) => rssMb(run.peakRssKb))),
        }
  const python = pythonResultOf(pythonRuns, scenario, kcat)
  return {
    scenario: scenario.id,
    messages: scenario.messages,
    sizeInBytes: scenario.sizeInBytes,
    partitions: scenario.partitions,
    repeats,
    produce,
    ...(kcat && { kcat }),
    ...(python && { python }),
    drains: plans.map((plan) => drainRunResultOf(plan, drains.get(plan.run)!, scenario, kcat, python)),
  }
}

function pythonResultOf(
  runs: readonly SeedDesignRun[],
  scenario: Scenario,
  kcat: KcatResult | undefined,
): PythonResult | undefined {
  if (runs.length === 0) return undefined
  const inProcess = rateOf(
    runs.map((run) => run.drainMs),
    scenario.messages,
    scenario.sizeInBytes,
  )
  const wholeProcess = rateOf(
    runs.map((run) => run.wallMs),
    scenario.messages,
    scenario.sizeInBytes,
  )
  return {
    inProcess,
    wholeProcess,
    peakRssMb: spreadOf(runs.map((run) => rssMb(run.peakRssKb))),
    importMs: spreadOf(runs.map((run) => round(run.importMs))),
    ...(kcat && { toKcat: ratiosOf({ inProcess, wholeProcess }, kcat.wholeProcess, kcat.wholeProcess) }),
  }
}

function drainRunResultOf(
  plan: DrainPlan,
  runs: readonly DrainMeasurement[],
  scenario: Scenario,
  kcat: KcatResult | undefined,
  python: PythonResult | undefined,
): DrainRunResult {
  const inProcess = rateOf(
    runs.map((run) => run.result.elapsedMs),
    plan.expectMessages,
    scenario.sizeInBytes,
  )
  const wholeProcess = rateOf(
    runs.map((run) => run.wallMs),
    plan.expectMessages,
    scenario.sizeInBytes,
  )
  const middle = [...runs].sort((a, b) => a.result.elapsedMs - b.result.elapsedMs)[
    Math.floor(runs.length / 2)
  ]!
  const invocations = middle.result.invocations
  return {
    run: plan.run,
    processor: plan.processor,
    dynamodbLatencyMs: plan.dynamodbLatencyMs,
    ...(plan.logLevel && { logLevel: plan.logLevel }),
    maxMessages: plan.maxMessages,
    messages: plan.expectMessages,
    invocations,
    inProcess,
    wholeProcess,
    msPerInvocation: round(middle.result.elapsedMs / invocations, 2),
    peakRssMb: spreadOf(runs.map((run) => rssMb(run.result.maxRssKb))),
    rssAfterImportMb: rssMb(middle.result.rssAfterImportKb),
    importMs: spreadOf(runs.map((run) => round(run.result.importMs))),
    dynamodbPerInvocation: perInvocation(middle.dynamodb, invocations),
    offsetsWrittenPerInvocation: round(middle.result.offsetsWritten / invocations, 2),
    checkpointsPerInvocation: round(middle.result.checkpoints / invocations, 2),
    ...(kcat && { toKcat: ratiosOf({ inProcess, wholeProcess }, kcat.wholeProcess, kcat.wholeProcess) }),
    ...(python && {
      toPython: ratiosOf({ inProcess, wholeProcess }, python.inProcess, python.wholeProcess),
    }),
  }
}

function ratiosOf(
  rates: { inProcess: Rate; wholeProcess: Rate },
  inProcessBaseline: Rate,
  wholeProcessBaseline: Rate,
): Ratios {
  return {
    inProcess: round(rates.inProcess.messagesPerSecond / inProcessBaseline.messagesPerSecond, 3),
    wholeProcess: round(rates.wholeProcess.messagesPerSecond / wholeProcessBaseline.messagesPerSecond, 3),
  }
}

interface DrainMeasurement {
  readonly result: DrainResult
  /** The worker's whole process: from its fork to its exit. */
  readonly wallMs: number
  readonly dynamodb: Record<string, number>
}

let groupSequence = 0

/**
 * One worker draining the topic from the beginning under a fresh consumer_id, timed from its
 * fork to its exit as well as inside; with `maxInvocations: 1`, only what one invocation takes.
 */
async function drain(
  stack: Stack,
  bundle: string,
  scenario: Scenario,
  topic: string,
  processor: ProcessorKind,
  label: string,
  run: {
    env: Record<string, string>
    nodeOptions?: readonly string[]
    expectMessages?: number
    maxInvocations?: number
  },
): Promise<DrainMeasurement> {
  const before = await stack.dynamodb.counts()
  const worker = startWorker(
    {
      mode: 'drain',
      bundle,
      processor,
      maxInvocations: run.maxInvocations ?? scenario.messages + 10,
      waitForGo: false,
    },
    { ...stack.env, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: `bench-${++groupSequence}`, ...run.env },
    [...(run.nodeOptions ?? []), ...diagnosticFlags(label)],
    label,
  )
  const { message: result, wallMs } = await worker.result
  if (result.type !== 'drain') throw new Error(`expected a drain result, got ${result.type}`)
  const expected = run.expectMessages ?? scenario.messages
  if (result.messages !== expected) {
    throw new Error(`${scenario.id}: the drain processed ${result.messages} messages, not ${expected}`)
  }
  return { result, wallMs, dynamodb: countsBetween(before, await stack.dynamodb.counts()) }
}

let profileSequence = 0
/** `--cpu-prof` and `--trace-gc` for a drain worker, its files named after what it measures. */
function diagnosticFlags(label: string): string[] {
  const flags: string[] = []
  if (cpuProfileDir !== undefined) {
    flags.push(
      '--cpu-prof',
      `--cpu-prof-dir=${cpuProfileDir}`,
      `--cpu-prof-name=${label}-${++profileSequence}.cpuprofile`,
    )
  }
  if (traceGcDir !== undefined) flags.push('--trace-gc')
  return flags
}

/**
 * Peak RSS of one invocation, Node started with the heap flags Lambda's runtime gives a
 * function of the stack's memory: the real path (async processor) on the whole backlog and on a
 * tenth of it (bounded by the fetch size, it should not differ much), and the synchronous one.
 */
async function measureMemory(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  scenario: Scenario,
  topic: string,
): Promise<MemoryResult> {
  const tenth = Math.round(scenario.messages / 10)
  const flags = lambdaHeapFlags(FUNCTION_MEMORY_MB)
  // The first is the target's (the median of --repeat runs); the others are for comparison.
  const others = Math.min(options.repeat, options.repeatOthers)
  const variants = [
    { label: 'whole backlog', processor: 'async', messages: scenario.messages, repeats: options.repeat },
    { label: 'a tenth of it', processor: 'async', messages: tenth, repeats: others },
    { label: 'whole backlog', processor: 'sync', messages: scenario.messages, repeats: others },
    // What the partitions side by side cost in memory: the same drain, one partition at a time.
    {
      label: ONE_AT_A_TIME,
      processor: 'async',
      messages: scenario.messages,
      repeats: others,
      env: { PARTITION_CONCURRENCY: '1' },
    },
  ] as const
  const rows: MemoryRow[] = []
  for (const variant of variants) {
    const runs: DrainResult[] = []
    for (let repeat = 0; repeat < variant.repeats; repeat++) {
      const { result } = await drain(
        stack,
        bundles.selfContained.path,
        scenario,
        topic,
        variant.processor,
        `memory-${variant.processor}-${variant.messages}${'env' in variant ? '-one-at-a-time' : ''}`,
        {
          env: { MAX_MESSAGES: String(variant.messages), ...('env' in variant && variant.env) },
          nodeOptions: flags,
          expectMessages: variant.messages,
          maxInvocations: 1,
        },
      )
      runs.push(result)
    }
    const row = {
      label: variant.label,
      processor: variant.processor,
      messages: variant.messages,
      nodeOptions: flags.join(' '),
      peakRssMb: spreadOf(runs.map((run) => rssMb(run.maxRssKb))),
      rssAfterImportMb: rssMb(median(runs.map((run) => run.rssAfterImportKb))),
    }
    rows.push(row)
    log(
      `memory: ${row.messages.toLocaleString('en-US')} messages, ${row.processor} processor, ${row.nodeOptions}: peak RSS ${row.peakRssMb.median} MB`,
    )
  }
  return { scenario: scenario.id, rows }
}

/** A topic whose every partition has messages, all consumed: the next invocations find nothing new. */
async function prepareIdleTopic(stack: Stack, bundles: Bundles): Promise<string> {
  const topic = `bench-idle-${Date.now().toString(36)}`
  await produceSmall(stack, topic, 800, 8)
  const worker = startWorker(
    {
      mode: 'drain',
      bundle: bundles.selfContained.path,
      processor: 'sync',
      maxInvocations: 10,
      waitForGo: false,
    },
    { ...stack.env, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: 'bench-idle' },
  )
  const { message: result } = await worker.result
  if (result.type !== 'drain' || result.messages !== 800) throw new Error('could not prepare the idle topic')
  return topic
}

/** A new topic with `messages` small JSON messages spread evenly over its partitions. */
async function produceSmall(
  stack: Stack,
  topic: string,
  messages: number,
  partitions: number,
): Promise<void> {
  await createTopic({ bootstrapServers: [stack.broker.bootstrapServers], topic, partitions })
  const sender = createSender([stack.broker.bootstrapServers])
  try {
    await sender.send(
      topic,
      Array.from({ length: messages }, (_, index) => ({
        value: JSON.stringify({ index }),
        partition: index % partitions,
      })),
    )
  } finally {
    await sender.close()
  }
}

async function measureOverhead(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  kind: BundleKind,
  topic: string,
): Promise<ColdWarm> {
  const bundle =
    kind === 'self-contained'
      ? bundles.selfContained
      : kind === 'construct'
        ? bundles.construct
        : bundles.oneFile
  const runs: InvocationsResult[] = []
  const before = await stack.dynamodb.counts()
  for (let run = 0; run < options.coldRuns; run++) {
    const worker = startWorker(
      {
        mode: 'invocations',
        bundle: bundle.path,
        processor: 'async',
        warmInvocations: options.warmPerProcess,
      },
      {
        ...stack.env,
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: 'bench-idle',
        ...(kind !== 'self-contained' && { NODE_PATH: bundles.nodePath }),
      },
    )
    const { message: result } = await worker.result
    if (result.type !== 'invocations') throw new Error(`expected invocation timings, got ${result.type}`)
    if (result.messages !== 0) throw new Error(`the idle topic had ${result.messages} new message(s)`)
    runs.push(result)
  }
  const invocations = options.coldRuns * (1 + options.warmPerProcess)
  const requests = countsBetween(before, await stack.dynamodb.counts())
  const result: ColdWarm = {
    bundle: kind,
    bundleBytes: bundle.bytes,
    bundleGzipBytes: bundle.gzipBytes,
    lazyBytes: bundle.lazyBytes,
    dynamodbLatencyMs: options.dynamodbLatencyMs,
    importMs: spreadOf(runs.map((run) => run.importMs)),
    firstInvocationMs: spreadOf(runs.map((run) => run.firstInvocationMs)),
    coldMs: spreadOf(runs.map((run) => run.importMs + run.firstInvocationMs)),
    coldSinceProcessStartMs: spreadOf(runs.map((run) => run.sinceProcessStartMs)),
    warmMs: spreadOf(runs.flatMap((run) => run.warmMs)),
    dynamodbPerInvocation: perInvocation(requests, invocations),
    coldRequests: meanRequests(runs.map((run) => run.requests[0]!)),
    warmRequests: meanRequests(runs.flatMap((run) => run.requests.slice(1))),
    idleRssMb: spreadOf(runs.map((run) => rssMb(run.maxRssKb))),
  }
  log(
    `${kind}: cold ${ms(result.coldMs.median)} (import ${ms(result.importMs.median)} + invocation ${ms(result.firstInvocationMs.median)}),` +
      ` warm ${result.warmMs.median.toFixed(1)} ms median of ${result.warmMs.n};` +
      ` warm: DynamoDB ${describe(result.warmRequests.dynamodb)} (${result.warmRequests.roundTrips.dynamodb} round trips),` +
      ` Kafka ${describe(result.warmRequests.kafka)} (${result.warmRequests.roundTrips.kafka} round trips)`,
  )
  return result
}

function meanRequests(all: readonly InvocationRequests[]): RequestCounts {
  const mean = (pick: (requests: InvocationRequests) => Readonly<Record<string, number>>) => {
    const sums: Record<string, number> = {}
    for (const requests of all) {
      for (const [name, count] of Object.entries(pick(requests))) sums[name] = (sums[name] ?? 0) + count
    }
    return Object.fromEntries(Object.entries(sums).map(([name, sum]) => [name, round(sum / all.length, 2)]))
  }
  const meanOf = (pick: (requests: InvocationRequests) => number) =>
    round(all.reduce((sum, requests) => sum + pick(requests), 0) / Math.max(1, all.length), 2)
  return {
    dynamodb: mean((requests) => requests.dynamodb),
    kafka: mean((requests) => requests.kafka),
    roundTrips: {
      dynamodb: meanOf((requests) => requests.roundTrips.dynamodb),
      kafka: meanOf((requests) => requests.roundTrips.kafka),
    },
  }
}

/**
 * The I/O-bound scenario: an async processor awaiting 5 ms per message (as a call to another
 * service would), 1,000 messages over 8 partitions, one invocation at MAX_MESSAGES=1000. The
 * waits alone take 5 s with the partitions one after another, 625 ms side by side.
 */
async function measureIoBound(stack: Stack, bundles: Bundles, options: BenchOptions): Promise<IoBoundResult> {
  const topic = `bench-io-${Date.now().toString(36)}`
  await produceSmall(stack, topic, IO_BOUND.messages, IO_BOUND.partitions)
  const scenario: Scenario = { id: 'io-bound', messages: IO_BOUND.messages, sizeInBytes: 0, partitions: 8 }
  const invocation: number[] = []
  const whole: number[] = []
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    const measured = await drain(stack, bundles.selfContained.path, scenario, topic, 'io-5ms', 'io-bound', {
      env: { MAX_MESSAGES: String(IO_BOUND.messages) },
      maxInvocations: 1,
    })
    invocation.push(measured.result.elapsedMs)
    whole.push(measured.wallMs)
    log(
      `I/O-bound #${repeat}: one invocation ${ms(measured.result.elapsedMs)} (whole process ${ms(measured.wallMs)})`,
    )
  }
  return {
    messages: IO_BOUND.messages,
    partitions: IO_BOUND.partitions,
    waitPerMessageMs: IO_BOUND.waitPerMessageMs,
    invocationMs: spreadOf(invocation.map(round)),
    wholeProcessMs: spreadOf(whole.map(round)),
    sequentialFloorMs: IO_BOUND.messages * IO_BOUND.waitPerMessageMs,
    parallelFloorMs: Math.ceil(IO_BOUND.messages / IO_BOUND.partitions) * IO_BOUND.waitPerMessageMs,
  }
}

async function measureShards(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  scenario: Scenario,
  topic: string,
): Promise<ShardsResult> {
  const one: number[] = []
  const two: number[] = []
  let perShard: number[] = []
  const processor: ProcessorKind = 'async'
  const repeats = Math.min(options.repeat, options.repeatOthers)
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const single = await drain(stack, bundles.selfContained.path, scenario, topic, processor, 'shards-1', {
      env: { MAX_MESSAGES: String(options.oneShotMaxMessages) },
    })
    one.push(single.result.elapsedMs)
    const group = `bench-${++groupSequence}`
    const workers = [0, 1].map((index) =>
      startWorker(
        {
          mode: 'drain',
          bundle: bundles.selfContained.path,
          processor,
          maxInvocations: 100,
          waitForGo: true,
        },
        {
          ...stack.env,
          KAFKA_TOPIC: topic,
          KAFKA_GROUP_ID: group,
          MAX_MESSAGES: String(options.oneShotMaxMessages),
          SHARD_COUNT: '2',
          SHARD_INDEX: String(index),
        },
      ),
    )
    await Promise.all(workers.map((worker) => worker.ready))
    const started = performance.now()
    for (const worker of workers) worker.go()
    const results = await Promise.all(workers.map((worker) => worker.result))
    two.push(performance.now() - started)
    perShard = results.map(({ message }) => (message.type === 'drain' ? message.messages : 0))
    const total = perShard.reduce((sum, count) => sum + count, 0)
    if (total !== scenario.messages) {
      throw new Error(
        `two shards processed ${total} messages together, not ${scenario.messages} (${perShard.join(' + ')})`,
      )
    }
    log(
      `shards #${repeat}: 1 shard ${ms(one.at(-1)!)}, 2 shards side by side ${ms(two.at(-1)!)} (${perShard.join(' + ')})`,
    )
  }
  return {
    scenario: scenario.id,
    messages: scenario.messages,
    processor,
    oneShard: {
      runsMs: one.map(round),
      messagesPerSecond: Math.round((scenario.messages / median(one)) * 1000),
    },
    twoShards: {
      runsMs: two.map(round),
      messagesPerSecond: Math.round((scenario.messages / median(two)) * 1000),
      messagesPerShard: perShard,
    },
  }
}

/** kcat's producer against the project's own (`createSender`, batches of 20,000), same messages. */
async function measureProducers(stack: Stack, options: BenchOptions): Promise<ProducerResult> {
  const messages = Math.max(1000, Math.round(200_000 * options.scale))
  const sizeInBytes = 200
  const kcatTopic = `bench-produce-kcat-${Date.now().toString(36)}`
  const projectTopic = `bench-produce-lkc-${Date.now().toString(36)}`
  for (const topic of [kcatTopic, projectTopic]) {
    await createTopic({ bootstrapServers: [stack.broker.bootstrapServers], topic, partitions: 8 })
  }
  const kcatMs = await produceWithKcat(
    stack.broker.bootstrapServers,
    kcatTopic,
    payloadLines(messages, sizeInBytes),
  )
  const lines = [...payloadLines(messages, sizeInBytes)].flatMap((chunk) => chunk.split('\n').filter(Boolean))
  const sender = createSender([stack.broker.bootstrapServers], 20_000)
  const started = performance.now()
  try {
    await sender.send(
      projectTopic,
      lines.map((value, index) => ({ value, partition: index % 8 })),
    )
  } finally {
    await sender.close()
  }
  const projectMs = performance.now() - started
  const result = {
    messages,
    sizeInBytes,
    kcatMessagesPerSecond: Math.round((messages / kcatMs) * 1000),
    projectProducerMessagesPerSecond: Math.round((messages / projectMs) * 1000),
  }
  log(
    `producers: kcat ${result.kcatMessagesPerSecond.toLocaleString('en-US')} msgs/s, project ${result.projectProducerMessagesPerSecond.toLocaleString('en-US')} msgs/s`,
  )
  return result
}

interface Worker {
  readonly ready: Promise<number>
  /** The worker's last message, and its whole process's time: from the fork to the exit. */
  readonly result: Promise<{ message: WorkerMessage; wallMs: number }>
  go(): void
}

function startWorker(
  job: WorkerJob,
  env: Readonly<Record<string, string>>,
  nodeOptions: readonly string[] = [],
  label = 'worker',
): Worker {
  const forkedAt = performance.now()
  const child: ChildProcess = fork(workerPath, [], {
    execArgv: [...nodeOptions],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      [WORKER_JOB_VARIABLE]: JSON.stringify(job),
    },
    // The handler's JSON log lines go nowhere, as fast as CloudWatch's agent takes them; with
    // --trace-gc, V8's lines (and the handler's) go to a file per worker.
    stdio: ['ignore', traceGcDir === undefined ? 'ignore' : 'pipe', 'inherit', 'ipc'],
  })
  if (traceGcDir !== undefined && child.stdout) {
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.stdout.on('end', () => {
      writeFile(join(traceGcDir!, `${label}-${child.pid}.log`), Buffer.concat(chunks)).catch(() => {})
    })
  }
  let markReady: (importMs: number) => void = () => {}
  const ready = new Promise<number>((resolveReady) => {
    markReady = resolveReady
  })
  const result = new Promise<{ message: WorkerMessage; wallMs: number }>((resolveResult, reject) => {
    let final: WorkerMessage | undefined
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') markReady(message.importMs)
      else final = message
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      const wallMs = performance.now() - forkedAt
      if (final?.type === 'error') reject(new Error(`the consumer worker failed: ${final.message}`))
      else if (final === undefined || code !== 0) reject(new Error(`the consumer worker exited with ${code}`))
      else resolveResult({ message: final, wallMs })
    })
  })
  // A worker that fails before `ready` must not leave its parent waiting forever.
  result.catch(() => markReady(Number.NaN))
  return { ready, result, go: () => child.send({ type: 'go' }) }
}

function rateOf(runsMs: readonly number[], messages: number, sizeInBytes: number): Rate {
  const elapsed = median(runsMs)
  return {
    runsMs: runsMs.map((value) => round(value)),
    messagesPerSecond: Math.round((messages / elapsed) * 1000),
    megabytesPerSecond: round((messages * sizeInBytes) / 1e6 / (elapsed / 1000)),
  }
}

function perInvocation(counts: OperationCounts, invocations: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([operation, count]) => [operation, round(count / invocations, 2)]),
  )
}

/** What the handler's own file is made of (not its chunks: those load only with their format). */
function composition(
  bundle: BundleComposition['bundle'],
  built: BuiltBundle & { readonly metafile: Metafile },
): BundleComposition {
  // The metafile's paths are relative to the build's working directory, the project's root.
  const output = Object.entries(built.metafile.outputs).find(
    ([path]) => resolve(root, path) === resolve(built.path),
  )?.[1]
  const bytes = new Map<string, number>()
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
    const name = match?.[1] ?? (path.startsWith('src/') ? 'src (this project)' : path)
    bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput)
  }
  const packages = [...bytes]
    .map(([name, size]) => ({ name, bytes: size }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12)
  return { bundle, packages }
}

async function publish(results: BenchResults, options: BenchOptions): Promise<void> {
  const stamp = results.startedAt.slice(0, 16).replace(':', '-')
  const chart = renderThroughputChart(results)
  const markdown = renderMarkdown(results, `${stamp}.svg`)
  process.stdout.write(`\n${markdown}\n`)
  if (!options.writeResults) return
  const directory = join(import.meta.dirname, 'results')
  await mkdir(directory, { recursive: true })
  await writeFile(join(directory, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(join(directory, `${stamp}.md`), `# Benchmark ${results.startedAt}\n\n${markdown}\n`)
  await writeFile(join(directory, `${stamp}.svg`), chart)
  const readmePath = join(import.meta.dirname, 'README.md')
  const readme = await readFile(readmePath, 'utf8')
  await writeFile(
    readmePath,
    withResultsSection(readme, renderMarkdown(results, `results/${stamp}.svg`), stamp),
  )
  log(`wrote bench/results/${stamp}.{json,md,svg} and the summary in bench/README.md`)
}

function gitDescribe(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    })
    return dirty.trim() === '' ? commit : `${commit}+changes`
  } catch {
    return 'unknown'
  }
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits))
const rounded = (values: readonly number[]) => values.map((value) => round(value, 2))
const rssMb = (kilobytes: number) => Math.round(kilobytes / 1024)
const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`
const ms = (value: number) => `${Math.round(value)} ms`
const describe = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ') || 'none'

main().catch((error: unknown) => {
  process.stderr.write(
    `\nnpm run bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
