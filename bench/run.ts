/**
 * `npm run bench`: the performance benchmark of issue 6. A benchmark, not a test: it prints
 * and records, it asserts nothing. Against the real Kafka broker the project starts and the
 * DynamoDB API (dynalite, with a request counter), with kcat as the native baseline on the
 * same topics in the same run:
 *   - throughput through the bundled handler (fetch, decode, JSON parse, a no-op processor,
 *     offset saves), draining each scenario's backlog in one invocation and with the default
 *     MAX_MESSAGES, beside `kcat -C -o beginning -e -q`;
 *   - cold and warm invocation overhead with nothing new, bundle size and import time;
 *   - peak RSS, DynamoDB requests per invocation;
 *   - the drain rate with 1 and 2 shards side by side; kcat's and the project's producers.
 * Writes bench/results/<date>.{json,md,svg} and the summary in bench/README.md.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { build, type Metafile } from 'esbuild'
import { bundleLambda } from '../scripts/build-lambda.ts'
import { buildLayer } from '../scripts/build-layer.ts'
import { lambdaHeapFlags } from '../scripts/lambda-node-flags.ts'
import { createSender, createTopic } from '../src/kafka/topics.ts'
import { type KafkaBroker, startKafkaBroker } from '../src/local/kafka-broker.ts'
import { createOffsetsTable } from '../src/offsets/offsets-table.ts'
import { dynamoDbClientConfig } from '../src/runtime/create-runtime.ts'
import {
  type BenchOptions,
  parseBenchOptions,
  REFERENCE_SCENARIO,
  type Scenario,
  USAGE,
} from './bench-options.ts'
import type {
  BenchResults,
  BundleComposition,
  ColdWarm,
  LkcRate,
  MemoryResult,
  MemoryRow,
  ProducerResult,
  Rate,
  ShardsResult,
  ThroughputResult,
} from './bench-results.ts'
import {
  type CountingDynamoDbServer,
  countsBetween,
  type OperationCounts,
  startCountingDynamoDbServer,
} from './counting-dynamodb-server.ts'
import { consumeWithKcat, ensureKcat, produceWithKcat } from './kcat.ts'
import { payloadLines } from './payloads.ts'
import { checkTargets, renderMarkdown, withResultsSection } from './report.ts'
import { median, type Spread, spreadOf } from './stats.ts'
import { renderThroughputChart } from './svg-chart.ts'
import {
  type DrainResult,
  type InvocationsResult,
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
const SETTLE_MS = 1000
/** The function's memory in the stack, MB. */
const FUNCTION_MEMORY_MB = 512

const log = (line: string) =>
  process.stderr.write(`\x1b[2m[bench ${new Date().toISOString().slice(11, 19)}]\x1b[0m ${line}\n`)

interface Bundles {
  readonly selfContained: { path: string; bytes: number; gzipBytes: number; metafile: Metafile }
  /** The deployed shape: the bundle alone in a task folder, the Kafka client from a built layer. */
  readonly layer: { path: string; bytes: number; gzipBytes: number; metafile: Metafile; nodePath: string }
}

interface Stack {
  readonly broker: KafkaBroker
  readonly dynamodb: CountingDynamoDbServer
  /** The environment every worker gets: the function's configuration, as Lambda would set it. */
  readonly env: Readonly<Record<string, string>>
}

async function main(): Promise<void> {
  const parsed = parseBenchOptions(process.argv.slice(2), process.env)
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const options = parsed
  if (options.cpuProfileDir !== undefined) cpuProfileDir = resolve(options.cpuProfileDir)
  const startedAt = new Date()
  const loadAverageAtStart = os.loadavg()
  const kcat = ensureKcat(log)
  log(`kcat: ${kcat}; load average ${loadAverageAtStart.map((load) => load.toFixed(2)).join(' ')}`)

  const bundles = await buildBundles()
  log(
    `bundles: self-contained ${kib(bundles.selfContained.bytes)}, layer-style ${kib(bundles.layer.bytes)} (Kafka client from the built layer)`,
  )

  log('starting the Kafka broker and the DynamoDB API')
  const dynamodb = await startCountingDynamoDbServer()
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
      DYNAMODB_ENDPOINT: dynamodb.endpoint,
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
      for (const kind of ['self-contained', 'layer'] as const) {
        overhead.push(await measureOverhead(stack, bundles, options, kind, idleTopic))
      }
      const kcatRuns: number[] = []
      for (let run = 0; run < 5; run++)
        kcatRuns.push(await consumeWithKcat(stack.broker.bootstrapServers, idleTopic))
      kcatFixedMs = spreadOf(kcatRuns)
      log(`kcat on the 800-message topic: ${ms(kcatFixedMs.median)} from start to exit`)
    }

    let memory: MemoryResult | undefined
    const referenceScenario = options.scenarios.find((scenario) => scenario.id === REFERENCE_SCENARIO)
    const referenceTopicForMemory = topics.get(REFERENCE_SCENARIO)
    if (options.sections.has('memory') && referenceScenario && referenceTopicForMemory) {
      memory = await measureMemory(stack, bundles, options, referenceScenario, referenceTopicForMemory)
    }

    let shards: ShardsResult | undefined
    const reference = options.scenarios.find((scenario) => scenario.id === REFERENCE_SCENARIO)
    const referenceTopic = topics.get(REFERENCE_SCENARIO)
    if (options.sections.has('shards') && reference && referenceTopic) {
      shards = await measureShards(stack, bundles, options, reference, referenceTopic)
    }

    let producer: ProducerResult | undefined
    if (options.sections.has('producer')) producer = await measureProducers(stack, options)

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
        commit: gitDescribe(),
      },
      options: {
        scale: options.scale,
        repeat: options.repeat,
        coldRuns: options.coldRuns,
        warmPerProcess: options.warmPerProcess,
      },
      throughput,
      overhead,
      composition: [composition('self-contained', bundles.selfContained.metafile)],
      ...(memory && { memory }),
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
}

async function buildBundles(): Promise<Bundles> {
  const bundle = async (selfContained: boolean, name: string) => {
    const outfile = join(root, 'dist/bench', name, 'index.mjs')
    const { bytes, metafile } = await bundleLambda({ selfContained, outfile })
    const gzipBytes = gzipSync(await readFile(outfile)).length
    return { path: outfile, bytes, gzipBytes, metafile }
  }
  await build({
    entryPoints: [join(import.meta.dirname, 'consumer-worker.ts')],
    outfile: workerPath,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'warning',
  })
  // As Lambda runs it: the bundle alone in a task folder (no node_modules above it), the client
  // from the layer this machine's architecture would get, through NODE_PATH.
  const task = await mkdtemp(join(os.tmpdir(), 'lkc-bench-task-'))
  const layerBundle = join(task, 'index.mjs')
  const { bytes, metafile } = await bundleLambda({ selfContained: false, outfile: layerBundle })
  const layerBuild = await buildLayer({
    architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
    outDir: join(root, 'dist/bench/layer-opt'),
  })
  return {
    selfContained: await bundle(true, 'self-contained'),
    layer: {
      path: layerBundle,
      bytes,
      gzipBytes: gzipSync(await readFile(layerBundle)).length,
      metafile,
      nodePath: join(layerBuild.dir, 'nodejs/node_modules'),
    },
  }
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

async function measureThroughput(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  scenario: Scenario,
  topic: string,
  produce: ThroughputResult['produce'],
): Promise<ThroughputResult> {
  const kcatRuns: number[] = []
  const oneShot: DrainMeasurement[] = []
  const byDefault: DrainMeasurement[] = []
  const measurements: Array<() => Promise<void>> = [
    async () => {
      kcatRuns.push(await consumeWithKcat(stack.broker.bootstrapServers, topic))
    },
    async () => {
      oneShot.push(
        await drain(stack, bundles.selfContained.path, scenario, topic, {
          MAX_MESSAGES: String(options.oneShotMaxMessages),
        }),
      )
    },
    async () => {
      byDefault.push(
        await drain(stack, bundles.selfContained.path, scenario, topic, {
          MAX_MESSAGES: String(DEFAULT_MAX_MESSAGES),
        }),
      )
    },
  ]
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    // Interleaved, so that a change in the machine's load hits all three alike, and in a
    // rotating order with a pause before each, so that none always runs in the wake of
    // another (the broker's own work after a drain: its garbage collection, its caches).
    for (let step = 0; step < measurements.length; step++) {
      await sleep(SETTLE_MS)
      await measurements[(repeat - 1 + step) % measurements.length]!()
    }
    log(
      `${scenario.id} #${repeat}: kcat ${ms(kcatRuns.at(-1)!)}, one invocation ${ms(oneShot.at(-1)!.result.elapsedMs)}` +
        ` (${rssMb(oneShot.at(-1)!.result.maxRssKb)} MB peak RSS), MAX_MESSAGES=${DEFAULT_MAX_MESSAGES} ${ms(byDefault.at(-1)!.result.elapsedMs)}` +
        ` (${byDefault.at(-1)!.result.invocations} invocations)`,
    )
  }
  const kcat = rateOf(kcatRuns, scenario)
  return {
    scenario: scenario.id,
    messages: scenario.messages,
    sizeInBytes: scenario.sizeInBytes,
    partitions: scenario.partitions,
    produce,
    kcat,
    oneInvocation: lkcRateOf(oneShot, scenario, options.oneShotMaxMessages, kcat),
    defaultMaxMessages: lkcRateOf(byDefault, scenario, DEFAULT_MAX_MESSAGES, kcat),
  }
}

interface DrainMeasurement {
  readonly result: DrainResult
  readonly dynamodb: Record<string, number>
}

let groupSequence = 0
/** Set from `--cpu-prof`: where the drain workers write their CPU profiles. */
let cpuProfileDir: string | undefined

/**
 * One worker draining the topic from the beginning under a fresh consumer_id; with
 * `maxInvocations: 1`, only what one invocation takes (MAX_MESSAGES).
 */
async function drain(
  stack: Stack,
  bundle: string,
  scenario: Scenario,
  topic: string,
  env: Record<string, string>,
  run: { nodeOptions?: readonly string[]; expectMessages?: number; maxInvocations?: number } = {},
): Promise<DrainMeasurement> {
  const profiling = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]
  const worker = startWorker(
    { mode: 'drain', bundle, maxInvocations: run.maxInvocations ?? scenario.messages + 10 },
    { ...stack.env, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: `bench-${++groupSequence}`, ...env },
    [...(run.nodeOptions ?? []), ...profiling],
  )
  await worker.ready
  const before = stack.dynamodb.counts()
  worker.go()
  const result = await worker.result
  if (result.type !== 'drain') throw new Error(`expected a drain result, got ${result.type}`)
  const expected = run.expectMessages ?? scenario.messages
  if (result.messages !== expected) {
    throw new Error(`${scenario.id}: the drain processed ${result.messages} messages, not ${expected}`)
  }
  return { result, dynamodb: countsBetween(before, stack.dynamodb.counts()) }
}

/**
 * Peak RSS of one invocation: the whole backlog and a tenth of it (bounded by the fetch size,
 * it should not differ), with this machine's V8 heap sizing and with the heap flags Lambda's
 * runtime gives a function of the stack's memory.
 */
async function measureMemory(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  scenario: Scenario,
  topic: string,
): Promise<MemoryResult> {
  const tenth = Math.round(scenario.messages / 10)
  const variants = [
    { label: 'whole backlog', messages: scenario.messages, nodeOptions: [] as string[] },
    { label: 'a tenth of it', messages: tenth, nodeOptions: [] as string[] },
    { label: 'whole backlog', messages: scenario.messages, nodeOptions: lambdaHeapFlags(FUNCTION_MEMORY_MB) },
    { label: 'a tenth of it', messages: tenth, nodeOptions: lambdaHeapFlags(FUNCTION_MEMORY_MB) },
  ]
  const rows: MemoryRow[] = []
  for (const variant of variants) {
    const runs: DrainResult[] = []
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      const { result } = await drain(
        stack,
        bundles.selfContained.path,
        scenario,
        topic,
        { MAX_MESSAGES: String(variant.messages) },
        { nodeOptions: variant.nodeOptions, expectMessages: variant.messages, maxInvocations: 1 },
      )
      runs.push(result)
    }
    const row = {
      label: variant.label,
      messages: variant.messages,
      nodeOptions: variant.nodeOptions.join(' '),
      peakRssMb: spreadOf(runs.map((run) => rssMb(run.maxRssKb))),
      rssAfterImportMb: rssMb(median(runs.map((run) => run.rssAfterImportKb))),
    }
    rows.push(row)
    log(
      `memory: ${row.messages.toLocaleString('en-US')} messages ${row.nodeOptions || '(V8 defaults)'}: peak RSS ${row.peakRssMb.median} MB`,
    )
  }
  return { scenario: scenario.id, rows }
}

/** A topic whose every partition has messages, all consumed: the next invocations find nothing new. */
async function prepareIdleTopic(stack: Stack, bundles: Bundles): Promise<string> {
  const topic = `bench-idle-${Date.now().toString(36)}`
  const partitions = 8
  await createTopic({ bootstrapServers: [stack.broker.bootstrapServers], topic, partitions })
  const sender = createSender([stack.broker.bootstrapServers])
  try {
    await sender.send(
      topic,
      Array.from({ length: 800 }, (_, index) => ({
        value: JSON.stringify({ index }),
        partition: index % partitions,
      })),
    )
  } finally {
    await sender.close()
  }
  const worker = startWorker(
    { mode: 'drain', bundle: bundles.selfContained.path, maxInvocations: 10 },
    { ...stack.env, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: 'bench-idle' },
  )
  await worker.ready
  worker.go()
  const result = await worker.result
  if (result.type !== 'drain' || result.messages !== 800) throw new Error('could not prepare the idle topic')
  return topic
}

async function measureOverhead(
  stack: Stack,
  bundles: Bundles,
  options: BenchOptions,
  kind: 'self-contained' | 'layer',
  topic: string,
): Promise<ColdWarm> {
  const bundle = kind === 'self-contained' ? bundles.selfContained : bundles.layer
  const runs: InvocationsResult[] = []
  const before = stack.dynamodb.counts()
  for (let run = 0; run < options.coldRuns; run++) {
    const worker = startWorker(
      { mode: 'invocations', bundle: bundle.path, warmInvocations: options.warmPerProcess },
      {
        ...stack.env,
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: 'bench-idle',
        ...(kind === 'layer' && { NODE_PATH: bundles.layer.nodePath }),
      },
    )
    const result = await worker.result
    if (result.type !== 'invocations') throw new Error(`expected invocation timings, got ${result.type}`)
    if (result.messages !== 0) throw new Error(`the idle topic had ${result.messages} new message(s)`)
    runs.push(result)
  }
  const invocations = options.coldRuns * (1 + options.warmPerProcess)
  const requests = countsBetween(before, stack.dynamodb.counts())
  const result: ColdWarm = {
    bundle: kind,
    bundleBytes: bundle.bytes,
    bundleGzipBytes: bundle.gzipBytes,
    importMs: spreadOf(runs.map((run) => run.importMs)),
    firstInvocationMs: spreadOf(runs.map((run) => run.firstInvocationMs)),
    coldMs: spreadOf(runs.map((run) => run.importMs + run.firstInvocationMs)),
    coldSinceProcessStartMs: spreadOf(runs.map((run) => run.sinceProcessStartMs)),
    warmMs: spreadOf(runs.flatMap((run) => run.warmMs)),
    dynamodbPerInvocation: perInvocation(requests, invocations),
    idleRssMb: spreadOf(runs.map((run) => rssMb(run.maxRssKb))),
  }
  log(
    `${kind}: cold ${ms(result.coldMs.median)} (import ${ms(result.importMs.median)} + invocation ${ms(result.firstInvocationMs.median)}),` +
      ` warm ${result.warmMs.median.toFixed(1)} ms median of ${result.warmMs.n}`,
  )
  return result
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
  for (let repeat = 1; repeat <= options.repeat; repeat++) {
    const single = await drain(stack, bundles.selfContained.path, scenario, topic, {
      MAX_MESSAGES: String(options.oneShotMaxMessages),
    })
    one.push(single.result.elapsedMs)
    const group = `bench-${++groupSequence}`
    const workers = [0, 1].map((index) =>
      startWorker(
        { mode: 'drain', bundle: bundles.selfContained.path, maxInvocations: 100 },
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
    perShard = results.map((result) => (result.type === 'drain' ? result.messages : 0))
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
  readonly result: Promise<WorkerMessage>
  go(): void
}

function startWorker(
  job: WorkerJob,
  env: Readonly<Record<string, string>>,
  nodeOptions: readonly string[] = [],
): Worker {
  const child: ChildProcess = fork(workerPath, [], {
    execArgv: [...nodeOptions],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      [WORKER_JOB_VARIABLE]: JSON.stringify(job),
    },
    // The handler's JSON log lines go nowhere, as fast as CloudWatch's agent takes them.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  let markReady: (importMs: number) => void = () => {}
  const ready = new Promise<number>((resolveReady) => {
    markReady = resolveReady
  })
  const result = new Promise<WorkerMessage>((resolveResult, reject) => {
    let final: WorkerMessage | undefined
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') markReady(message.importMs)
      else final = message
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (final?.type === 'error') reject(new Error(`the consumer worker failed: ${final.message}`))
      else if (final === undefined || code !== 0) reject(new Error(`the consumer worker exited with ${code}`))
      else resolveResult(final)
    })
  })
  // A worker that fails before `ready` must not leave its parent waiting forever.
  result.catch(() => markReady(Number.NaN))
  return { ready, result, go: () => child.send({ type: 'go' }) }
}

function rateOf(runsMs: readonly number[], scenario: Scenario): Rate {
  const elapsed = median(runsMs)
  return {
    runsMs: runsMs.map(round),
    messagesPerSecond: Math.round((scenario.messages / elapsed) * 1000),
    megabytesPerSecond: round((scenario.messages * scenario.sizeInBytes) / 1e6 / (elapsed / 1000)),
  }
}

function lkcRateOf(
  runs: readonly DrainMeasurement[],
  scenario: Scenario,
  maxMessages: number,
  kcat: Rate,
): LkcRate {
  const rate = rateOf(
    runs.map((run) => run.result.elapsedMs),
    scenario,
  )
  const middle = [...runs].sort((a, b) => a.result.elapsedMs - b.result.elapsedMs)[
    Math.floor(runs.length / 2)
  ]!
  return {
    ...rate,
    maxMessages,
    invocations: middle.result.invocations,
    peakRssMb: spreadOf(runs.map((run) => rssMb(run.result.maxRssKb))),
    rssAfterImportMb: rssMb(middle.result.rssAfterImportKb),
    dynamodbPerInvocation: perInvocation(middle.dynamodb, middle.result.invocations),
    offsetsWrittenPerInvocation: round(middle.result.offsetsWritten / middle.result.invocations),
    ratioToKcat: round(rate.messagesPerSecond / kcat.messagesPerSecond, 3),
  }
}

function perInvocation(counts: OperationCounts, invocations: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([operation, count]) => [operation, round(count / invocations, 2)]),
  )
}

function composition(bundle: 'self-contained' | 'layer', metafile: Metafile): BundleComposition {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined)
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

main().catch((error: unknown) => {
  process.stderr.write(
    `\nnpm run bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exitCode = 1
})
