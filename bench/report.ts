/**
 * The benchmark's results as Markdown (printed, written next to the JSON, and summarised in
 * bench/README.md), and the issues' targets checked against them, each met or MISSED with
 * what the figure is made of.
 */

import { ONE_AT_A_TIME, REFERENCE_SCENARIO, type RunId } from './bench-options.ts'
import type {
  BenchResults,
  ColdWarm,
  DrainRunResult,
  RequestCounts,
  TargetCheck,
  ThroughputResult,
} from './bench-results.ts'
import { formatNumber, median as medianOf, type Spread } from './stats.ts'

export const RESULTS_START = '<!-- bench-results:start (written by `npm run bench`; do not edit) -->'
export const RESULTS_END = '<!-- bench-results:end -->'

/** Where a missed target's explanation is kept: the profiles in bench/README.md. */
const PROFILES = 'profiles: bench/README.md, "Where the time goes"'
/** A run with something to consume takes the lease and releases it: two PutItems. */
const LEASE_WRITES = 2

export const RUN_LABELS: Readonly<Record<RunId, string>> = {
  kcat: 'kcat (`-C -o beginning -e -q`, librdkafka)',
  python: "the seed's design in Python (confluent-kafka + boto3, JSON parsed)",
  async: "lkc, async processor (the README's form): **the real path**",
  sync: 'lkc, synchronous processor',
  'async-1000': 'lkc, async processor, MAX_MESSAGES=1000',
  'sync-1000': 'lkc, synchronous processor, MAX_MESSAGES=1000',
  'default-warn': 'lkc, the default handler (logs each message) at LOG_LEVEL=WARN',
  'best-case': "issue 6's best case: synchronous processor, DynamoDB at 0 ms",
}

const BUNDLE_LABELS: Readonly<Record<ColdWarm['bundle'], string>> = {
  construct: "**the construct's bundle** (as deployed)",
  'one-file': 'one file, as NodejsFunction bundled it (before)',
  'self-contained': 'self-contained (this repository)',
}

/** The targets of issue 14 (and the DynamoDB budget of issue 6), from medians of this run. */
export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = []
  const reference = results.throughput.find((result) => result.scenario === REFERENCE_SCENARIO)
  const drainOf = (run: RunId) => reference?.drains.find((candidate) => candidate.run === run)
  const asyncRun = drainOf('async')
  const syncRun = drainOf('sync')
  const scenario = reference
    ? `${formatNumber(reference.messages)} × ${reference.sizeInBytes} B, ${reference.partitions} partitions`
    : REFERENCE_SCENARIO

  const realPath = `async processor, whole process (Node's start and the import included), ${scenario}, one invocation: >= 0.5× kcat and >= 3× the Python design`
  if (reference?.kcat && reference.python && asyncRun?.toKcat && asyncRun.toPython) {
    const toKcat = asyncRun.toKcat.wholeProcess
    const toPython = asyncRun.toPython.wholeProcess
    const wholeMs = medianOf(asyncRun.wholeProcess.runsMs)
    const drainMs = medianOf(asyncRun.inProcess.runsMs)
    const syncNote =
      syncRun === undefined
        ? ''
        : `; the synchronous processor's drain ${ms(medianOf(syncRun.inProcess.runsMs))} (async − sync: ${formatNumber(((drainMs - medianOf(syncRun.inProcess.runsMs)) / asyncRun.messages) * 1e6)} ns per message)`
    checks.push({
      target: realPath,
      measured: `${toKcat.toFixed(2)}× kcat, ${toPython.toFixed(2)}× Python (${formatNumber(asyncRun.wholeProcess.messagesPerSecond)} msgs/s; kcat ${formatNumber(reference.kcat.wholeProcess.messagesPerSecond)}, Python ${formatNumber(reference.python.wholeProcess.messagesPerSecond)})`,
      met: toKcat >= 0.5 && toPython >= 3,
      why:
        `whole process ${ms(wholeMs)}: the drain ${ms(drainMs)} (${asyncRun.toKcat.inProcess.toFixed(2)}× kcat inside the process), ${ms(wholeMs - drainMs)} around it (Node's start, the import ${ms(asyncRun.importMs.median)}, closing, exit)` +
        `${syncNote}; ${asyncRun.checkpointsPerInvocation} checkpoints in the drain; ${PROFILES}`,
    })
  } else {
    checks.push(notMeasured(realPath, 'the kcat, python and async runs of 200b-8p'))
  }

  const syncTarget = `synchronous processor, drain inside the process, ${scenario}, one invocation: >= 0.7× kcat`
  if (reference?.kcat && syncRun?.toKcat) {
    const ratio = syncRun.toKcat.inProcess
    checks.push({
      target: syncTarget,
      measured: `${ratio.toFixed(2)}× kcat (${formatNumber(syncRun.inProcess.messagesPerSecond)} vs ${formatNumber(reference.kcat.wholeProcess.messagesPerSecond)} msgs/s)`,
      met: ratio >= 0.7,
      why: `drain ${ms(medianOf(syncRun.inProcess.runsMs))} at ${syncRun.dynamodbLatencyMs} ms per DynamoDB request, ${syncRun.checkpointsPerInvocation} checkpoints; kcat parses nothing and its time includes its start; ${PROFILES}`,
    })
  } else {
    checks.push(notMeasured(syncTarget, 'the kcat and sync runs of 200b-8p'))
  }

  const memoryTarget =
    "peak RSS draining 1,000,000 messages in one invocation, Node started with Lambda's heap flags for 512 MB, async processor: <= 200 MB"
  const asInLambda = results.memory?.rows.find(
    (row) => row.processor === 'async' && row.label === 'whole backlog',
  )
  const oneAtATime = results.memory?.rows.find((row) => row.label === ONE_AT_A_TIME)
  if (asInLambda) {
    checks.push({
      target: memoryTarget,
      measured: `${formatNumber(asInLambda.peakRssMb.median)} MB (max ${formatNumber(asInLambda.peakRssMb.max)}; ${formatNumber(asInLambda.messages)} messages)`,
      met: asInLambda.peakRssMb.median <= 200,
      why:
        `${formatNumber(asInLambda.rssAfterImportMb)} MB after the import, before any message; flags ${asInLambda.nodeOptions}` +
        (oneAtATime === undefined
          ? ''
          : `; one partition at a time (PARTITION_CONCURRENCY=1) ${formatNumber(oneAtATime.peakRssMb.median)} MB: the partitions side by side keep their batches, and the Fetch responses those are views of, alive together (bench/README.md, "Peak RSS with Lambda's heap flags")`),
    })
  } else {
    checks.push(notMeasured(memoryTarget, 'the memory section'))
  }

  // The construct's bundle: what users deploy.
  const cold = results.overhead.find((result) => result.bundle === 'construct')
  const warmTarget = `warm invocation with nothing new, at ${cold?.dynamodbLatencyMs ?? '?'} ms per DynamoDB request: <= 2 DynamoDB + 2 Kafka round trips in a row, time printed`
  const coldTarget = `cold invocation with nothing new, the construct's bundle (the Kafka client from the layer), at ${cold?.dynamodbLatencyMs ?? '?'} ms per DynamoDB request, import included: <= 300 ms`
  const oneFile = results.overhead.find((result) => result.bundle === 'one-file')
  if (cold) {
    const { dynamodb, kafka } = cold.warmRequests.roundTrips
    checks.push({
      target: warmTarget,
      measured: `${formatNumber(dynamodb)} DynamoDB + ${formatNumber(kafka)} Kafka round trips; ${formatNumber(cold.warmMs.median)} ms (min ${formatNumber(cold.warmMs.min)}, max ${formatNumber(cold.warmMs.max)}, n=${cold.warmMs.n})`,
      met: dynamodb <= 2 && kafka <= 2,
      why: `requests: ${describeRequests(cold.warmRequests)}`,
    })
    checks.push({
      target: coldTarget,
      measured: `${formatNumber(cold.coldMs.median)} ms (${formatNumber(cold.coldSinceProcessStartMs.median)} ms with Node's own start)`,
      met: cold.coldMs.median <= 300,
      why:
        `import ${formatNumber(cold.importMs.median)} ms + first invocation ${formatNumber(cold.firstInvocationMs.median)} ms (${describeRequests(cold.coldRequests)})` +
        (oneFile === undefined
          ? ''
          : `; the same entry in one file, as NodejsFunction bundled it: import ${formatNumber(oneFile.importMs.median)} ms, cold ${formatNumber(oneFile.coldMs.median)} ms`),
    })
  } else {
    checks.push(
      notMeasured(warmTarget, 'the overhead section'),
      notMeasured(coldTarget, 'the overhead section'),
    )
  }

  const io = results.ioBound
  const ioTarget =
    'I/O-bound: an async processor awaiting 5 ms per message, 1,000 messages over 8 partitions, one invocation: <= 1.0 s (issue 12: partitions side by side)'
  if (io) {
    checks.push({
      target: ioTarget,
      measured: `${formatNumber(io.invocationMs.median)} ms (${formatNumber(io.invocationMs.min)}–${formatNumber(io.invocationMs.max)}; whole process ${formatNumber(io.wholeProcessMs.median)} ms)`,
      met: io.invocationMs.median <= 1000,
      why: `the waits alone: ${formatNumber(io.sequentialFloorMs)} ms with the partitions one after another, ${formatNumber(io.parallelFloorMs)} ms side by side`,
    })
  } else {
    checks.push(notMeasured(ioTarget, 'the io section'))
  }

  const byDefault = drainOf('async-1000') ?? drainOf('sync-1000')
  if (reference && byDefault) {
    const perInvocation = byDefault.dynamodbPerInvocation
    const queries = perInvocation.Query ?? 0
    const writes = perInvocation.PutItem ?? 0
    checks.push({
      target:
        'DynamoDB while draining (issue 6): 1 Query per invocation, writes only for partitions that moved (plus the run lease: taken, released)',
      measured: `${queries} Query, ${writes} PutItem per invocation (MAX_MESSAGES=1000, ${reference.partitions} partitions)`,
      met:
        queries === 1 &&
        writes <= reference.partitions + LEASE_WRITES &&
        Object.keys(perInvocation).every((operation) => operation === 'Query' || operation === 'PutItem'),
    })
  }
  return checks
}

function notMeasured(target: string, needs: string): TargetCheck {
  return { target, measured: `not measured in this run (needs ${needs})`, met: undefined }
}

function describeCounts(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts)
  return entries.length === 0
    ? 'none'
    : entries.map(([operation, count]) => `${formatNumber(count)} ${operation}`).join(', ')
}

function describeRequests(requests: RequestCounts): string {
  return (
    `DynamoDB: ${describeCounts(requests.dynamodb)} (${formatNumber(requests.roundTrips.dynamodb)} round trip${requests.roundTrips.dynamodb === 1 ? '' : 's'});` +
    ` Kafka: ${describeCounts(requests.kafka)} (${formatNumber(requests.roundTrips.kafka)} round trip${requests.roundTrips.kafka === 1 ? '' : 's'})`
  )
}

const ms = (value: number) =>
  value >= 1000 ? `${formatNumber(value / 1000)} s` : `${formatNumber(value)} ms`
const spread = (value: Spread, unit = '') =>
  `${formatNumber(value.median)}${unit} (${formatNumber(value.min)}–${formatNumber(value.max)})`
const ratio = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(2))
const metText = (met: boolean | undefined) =>
  met === undefined ? 'not measured' : met ? 'met' : '**MISSED**'

function runLabel(drain: DrainRunResult): string {
  const base = RUN_LABELS[drain.run]
  return drain.maxMessages <= 1000
    ? `${base} (${formatNumber(drain.invocations)} invocations, ${formatNumber(drain.msPerInvocation)} ms each)`
    : base
}

function throughputRows(result: ThroughputResult): string[] {
  const rows: string[] = []
  const python = result.python
  const kcat = result.kcat
  if (kcat) {
    const toPython = python
      ? kcat.wholeProcess.messagesPerSecond / python.wholeProcess.messagesPerSecond
      : undefined
    rows.push(
      `| ${RUN_LABELS.kcat} | — | — | ${formatNumber(kcat.wholeProcess.messagesPerSecond)} | 1.00 | ${ratio(toPython)} | ${ms(medianOf(kcat.wholeProcess.runsMs))} | ${formatNumber(kcat.peakRssMb.median)} MB (sampled) |`,
    )
  }
  if (python) {
    rows.push(
      `| ${RUN_LABELS.python} | ${formatNumber(python.inProcess.messagesPerSecond)} | ${ratio(python.toKcat?.inProcess)} | ${formatNumber(python.wholeProcess.messagesPerSecond)} | ${ratio(python.toKcat?.wholeProcess)} | 1.00 | ${ms(medianOf(python.wholeProcess.runsMs))} | ${formatNumber(python.peakRssMb.median)} MB |`,
    )
  }
  for (const drain of result.drains) {
    const bold = (text: string) => (drain.run === 'async' ? `**${text}**` : text)
    rows.push(
      `| ${runLabel(drain)} | ${formatNumber(drain.inProcess.messagesPerSecond)} | ${ratio(drain.toKcat?.inProcess)} | ${bold(formatNumber(drain.wholeProcess.messagesPerSecond))} | ${bold(ratio(drain.toKcat?.wholeProcess))} | ${bold(ratio(drain.toPython?.wholeProcess))} | ${ms(medianOf(drain.wholeProcess.runsMs))} | ${formatNumber(drain.peakRssMb.median)} MB |`,
    )
  }
  return rows
}

export function renderMarkdown(results: BenchResults, chartPath: string): string {
  const { machine, options } = results
  const lines: string[] = []
  const latency = options.dynamodbLatencyMs
  lines.push(
    `Run ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${results.durationS} s: ${machine.cpus} × ${machine.cpuModel}, ${formatNumber(machine.memoryMb / 1024)} GiB;` +
      ` **load average ${machine.loadAverageAtStart.join(' / ')} at the start, ${machine.loadAverageAtEnd.join(' / ')} at the end** (1 / 5 / 15 min);` +
      ` Node ${machine.node}; ${machine.kcat}${machine.python ? `; ${machine.python}` : ''}; commit ${machine.commit}.` +
      ` Scale ${options.scale}${options.scale === 1 ? ' (full size)' : ''}; figures are medians of ${options.repeat} runs (${REFERENCE_SCENARIO}, the targets' scenario) and ${Math.min(options.repeat, options.repeatOthers)} (the others).`,
    '',
    `**DynamoDB latency: ${latency} ms added to every request on the real path** by a proxy in front of the DynamoDB API server (dynalite, in a process of its own)` +
      (results.dynamodbProxy && results.dynamodbProxy.requests > 0
        ? `; the proxy held ${formatNumber(results.dynamodbProxy.requests)} requests for ${formatNumber(results.dynamodbProxy.meanHeldMs)} ms on average (max ${formatNumber(results.dynamodbProxy.maxHeldMs)}).`
        : '.') +
      ' Checkpoints at their defaults.',
  )
  if (results.targets.length > 0) {
    lines.push(
      '',
      '### Targets',
      '',
      '| Target | Measured | Met | What it is made of |',
      '| --- | --- | --- | --- |',
    )
    for (const check of results.targets) {
      lines.push(`| ${check.target} | ${check.measured} | ${metText(check.met)} | ${check.why ?? ''} |`)
    }
  }
  if (results.throughput.length > 0) {
    lines.push(
      '',
      '### The old best case beside the real path',
      '',
      `Issue 6's figure: the synchronous no-op processor, DynamoDB at no added latency, the clock started after the import. The real path: the async processor users write, DynamoDB at ${latency} ms, the whole process from its start to its exit.`,
      '',
      "| Scenario | kcat msgs/s | Python msgs/s (whole process) | issue 6's best case msgs/s (× kcat) | **the real path** msgs/s (× kcat, × Python) | real path ÷ best case |",
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const result of results.throughput) {
      const best = result.drains.find((drain) => drain.run === 'best-case')
      const real = result.drains.find((drain) => drain.run === 'async')
      lines.push(
        `| ${scenarioTitle(result)} | ${result.kcat ? formatNumber(result.kcat.wholeProcess.messagesPerSecond) : '—'} | ${result.python ? formatNumber(result.python.wholeProcess.messagesPerSecond) : '—'}` +
          ` | ${best ? `${formatNumber(best.inProcess.messagesPerSecond)} (${ratio(best.toKcat?.inProcess)})` : '—'}` +
          ` | ${real ? `**${formatNumber(real.wholeProcess.messagesPerSecond)}** (${ratio(real.toKcat?.wholeProcess)}, ${ratio(real.toPython?.wholeProcess)})` : '—'}` +
          ` | ${best && real ? (real.wholeProcess.messagesPerSecond / best.inProcess.messagesPerSecond).toFixed(2) : '—'} |`,
      )
    }
    lines.push(
      '',
      `![Throughput per scenario: kcat, Python, the old best case and the real path](${chartPath})`,
    )
    lines.push(
      '',
      '### Throughput',
      '',
      'Each drain starts a new process with a fresh `consumer_id` and reads the backlog from its first message. "In the process": from the first invocation\'s start to the last one\'s return (connecting, the offsets Query and every save included). "Whole process": from its start to its exit, Node\'s start, the import of the bundle (or the interpreter\'s imports) and closing included; kcat has only this figure. × kcat and × Python compare messages per second with theirs in the same run. MB/s of message values are in the JSON.',
      '',
    )
    for (const result of results.throughput) {
      lines.push(
        `#### ${scenarioTitle(result)}`,
        '',
        '| Run | in the process msgs/s | × kcat | whole process msgs/s | × kcat | × Python | whole process | peak RSS |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ...throughputRows(result),
        '',
      )
    }
    if (results.kcatFixedMs) {
      lines.push(
        `kcat's fixed cost (start, connect, and the wait that tells it a partition has ended) is part of every kcat time: ${formatNumber(results.kcatFixedMs.median)} ms from start to exit on a topic of 800 small messages.`,
        '',
      )
    }
    lines.push(
      'Producing the backlogs (`kcat -P` from a pipe): ' +
        results.throughput
          .map((result) => `${result.scenario} ${formatNumber(result.produce.messagesPerSecond)} msgs/s`)
          .join(', ') +
        '.',
    )
  }
  if (results.overhead.length > 0) {
    lines.push(
      '',
      `### Invocation overhead, nothing new (8 partitions, all consumed; DynamoDB at ${latency} ms)`,
      '',
      'Cold: a new Node process imports the bundle and completes one invocation (connect, metadata, offsets read, list offsets); medians (min–max) in ms.',
      "Warm: further invocations in the same process. Requests are counted in the process (Node's HTTP client and the Kafka client's diagnostics channels), per invocation.",
      "The construct's bundle: what the construct deploys for an entry (here the default handler), as Lambda runs it: alone in a task folder, the Kafka client from the built layer (its pre-bundled lkc-bundle.mjs) through NODE_PATH; the code only some settings use is in chunks loaded only then. One file: the same entry bundled as NodejsFunction bundled it before (nothing split off), same layer. Self-contained: this repository's bundle, the Kafka client and its WebAssembly inlined (the one the throughput runs use). Size: what a cold start loads (the handler's file and the chunks it imports).",
      '',
      '| Bundle | size loaded (gzip) | import | first invocation | **cold** | cold with Node start | **warm** | requests, cold | requests, warm | peak RSS idle |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
    )
    for (const result of results.overhead) {
      lines.push(
        `| ${BUNDLE_LABELS[result.bundle]} | ${kib(result.bundleBytes)} (${kib(result.bundleGzipBytes)})${result.lazyBytes ? ` + ${kib(result.lazyBytes)} when used` : ''} | ${spread(result.importMs)} | ${spread(result.firstInvocationMs)}` +
          ` | **${spread(result.coldMs)}** | ${spread(result.coldSinceProcessStartMs)} | **${spread(result.warmMs)}** (n=${result.warmMs.n})` +
          ` | ${describeRequests(result.coldRequests)} | ${describeRequests(result.warmRequests)} | ${formatNumber(result.idleRssMb.median)} MB |`,
      )
    }
  }
  const dynamodbRows: string[] = []
  for (const result of results.overhead.filter((candidate) => candidate.bundle === 'construct')) {
    dynamodbRows.push(`| nothing new (cold and warm) | ${describeCounts(result.dynamodbPerInvocation)} |`)
  }
  for (const result of results.throughput) {
    for (const drain of result.drains.filter((candidate) => candidate.processor !== 'default')) {
      dynamodbRows.push(
        `| ${result.scenario}, ${drain.run} (${formatNumber(drain.invocations)} invocation${drain.invocations === 1 ? '' : 's'}) | ${describeCounts(drain.dynamodbPerInvocation)} | ${formatNumber(drain.checkpointsPerInvocation)} |`,
      )
    }
  }
  if (dynamodbRows.length > 0) {
    lines.push(
      '',
      '### DynamoDB requests per invocation (counted at the DynamoDB API server)',
      '',
      '| Run | Requests per invocation | checkpoints |',
      '| --- | --- | ---: |',
      ...dynamodbRows,
    )
  }
  if (results.memory) {
    lines.push(
      '',
      `### Peak RSS of one invocation (${results.memory.scenario}), Node started as Lambda starts it for 512 MB`,
      '',
      "Whole process, import included (VmHWM). Lambda's Node.js runtime starts Node with heap flags sized from the function's memory, on the command line, where they take precedence over `NODE_OPTIONS`. The throughput tables above give each drain's peak with V8's defaults on this 24 GB machine.",
      '',
      '| Messages in the invocation | processor | Node flags | peak RSS, median (min–max) | RSS after import |',
      '| --- | --- | --- | ---: | ---: |',
    )
    for (const row of results.memory.rows) {
      lines.push(
        `| ${formatNumber(row.messages)} (${row.label}) | ${row.processor} | \`${row.nodeOptions}\` | ${spread(row.peakRssMb, ' MB')} | ${formatNumber(row.rssAfterImportMb)} MB |`,
      )
    }
  }
  if (results.ioBound) {
    const io = results.ioBound
    lines.push(
      '',
      `### I/O-bound: an async processor awaiting ${io.waitPerMessageMs} ms per message`,
      '',
      `${formatNumber(io.messages)} messages over ${io.partitions} partitions, one invocation (MAX_MESSAGES=${io.messages}), as a processor calling another service would spend its time.`,
      '',
      '| one invocation, ms | whole process, ms | the waits alone, partitions one after another | side by side |',
      '| ---: | ---: | ---: | ---: |',
      `| **${spread(io.invocationMs)}** | ${spread(io.wholeProcessMs)} | ${formatNumber(io.sequentialFloorMs)} | ${formatNumber(io.parallelFloorMs)} |`,
    )
  }
  if (results.shards) {
    const { shards } = results
    const speedup = shards.twoShards.messagesPerSecond / shards.oneShard.messagesPerSecond
    lines.push(
      '',
      `### Shards: draining ${formatNumber(shards.messages)} messages (${shards.scenario}, ${shards.processor} processor)`,
      '',
      '| Functions | drain rate msgs/s | runs (ms) |',
      '| --- | ---: | --- |',
      `| 1 (all partitions) | ${formatNumber(shards.oneShard.messagesPerSecond)} | ${shards.oneShard.runsMs.map(Math.round).join(', ')} |`,
      `| 2 side by side (SHARD_COUNT=2; ${shards.twoShards.messagesPerShard.map(formatNumber).join(' + ')} messages) | ${formatNumber(shards.twoShards.messagesPerSecond)} (${speedup.toFixed(2)}×) | ${shards.twoShards.runsMs.map(Math.round).join(', ')} |`,
      '',
      `Both shards, the broker and kcat share this machine's ${machine.cpus} cores: the speed-up shows contention here; in Lambda each shard has its own CPU.`,
    )
  }
  if (results.producer) {
    const { producer } = results
    lines.push(
      '',
      `Producing ${formatNumber(producer.messages)} × ${producer.sizeInBytes} B: kcat -P ${formatNumber(producer.kcatMessagesPerSecond)} msgs/s, ` +
        `the project's producer (batches of 20,000, idempotent, acks=all) ${formatNumber(producer.projectProducerMessagesPerSecond)} msgs/s. The benchmark fills its topics with kcat -P, the faster of the two with a million messages (kcat's fixed start-up cost weighs on small counts).`,
    )
  }
  for (const entry of results.composition) {
    lines.push(
      '',
      `Largest parts of the ${entry.bundle} bundle: ` +
        entry.packages.map((item) => `${item.name} ${kib(item.bytes)}`).join(', ') +
        '.',
    )
  }
  return lines.join('\n')
}

export function scenarioTitle(
  result: Pick<ThroughputResult, 'messages' | 'sizeInBytes' | 'partitions'>,
): string {
  return `${formatNumber(result.messages)} × ${sizeOf(result.sizeInBytes)}, ${result.partitions} partition${result.partitions === 1 ? '' : 's'}`
}

/** bench/README.md with its results section replaced by this run's. */
export function withResultsSection(readme: string, markdown: string, stamp: string): string {
  const start = readme.indexOf(RESULTS_START)
  const end = readme.indexOf(RESULTS_END)
  if (start < 0 || end < start)
    throw new Error(`bench/README.md has no ${RESULTS_START} ... ${RESULTS_END} section`)
  const body = `\nThe latest full results ([JSON](results/${stamp}.json), [table](results/${stamp}.md)):\n\n${markdown}\n`
  return `${readme.slice(0, start + RESULTS_START.length)}${body}${readme.slice(end)}`
}

const kib = (bytes: number) => `${formatNumber(bytes / 1024)} KiB`
const sizeOf = (bytes: number) => (bytes >= 1024 ? `${formatNumber(bytes / 1024)} KiB` : `${bytes} B`)
