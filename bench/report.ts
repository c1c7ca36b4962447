/**
 * The benchmark's results as Markdown (printed, written next to the JSON, and summarised in
 * bench/README.md), and the issue's targets checked against them.
 */

import { REFERENCE_SCENARIO } from './bench-options.ts'
import type { BenchResults, TargetCheck } from './bench-results.ts'
import { formatNumber, type Spread } from './stats.ts'

export const RESULTS_START = '<!-- bench-results:start (written by `npm run bench`; do not edit) -->'
export const RESULTS_END = '<!-- bench-results:end -->'

/** The issue's targets, on this machine, from medians. */
/** A run with something to consume takes the lease and releases it: two PutItems. */
const LEASE_WRITES = 2

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = []
  const reference = results.throughput.find((result) => result.scenario === REFERENCE_SCENARIO)
  if (reference) {
    const ratio = reference.oneInvocation.ratioToKcat
    checks.push({
      target: `throughput ${REFERENCE_SCENARIO} (one invocation) >= 0.5x kcat`,
      measured: `${ratio.toFixed(2)}x (${formatNumber(reference.oneInvocation.messagesPerSecond)} vs ${formatNumber(reference.kcat.messagesPerSecond)} msgs/s)`,
      met: ratio >= 0.5,
    })
    const peak = reference.oneInvocation.peakRssMb.median
    checks.push({
      target: `peak RSS draining ${formatNumber(reference.messages)} in one invocation <= 200 MB (V8 defaults of this machine)`,
      measured: `${formatNumber(peak)} MB (max ${formatNumber(reference.oneInvocation.peakRssMb.max)})`,
      met: peak <= 200,
    })
    const perInvocation = reference.defaultMaxMessages.dynamodbPerInvocation
    const queries = perInvocation.Query ?? 0
    const writes = perInvocation.PutItem ?? 0
    checks.push({
      target:
        'DynamoDB while draining: 1 Query per invocation, writes only for partitions that moved (plus the run lease: taken, released)',
      measured: `${queries} Query, ${writes} PutItem per invocation (MAX_MESSAGES=1000, ${reference.partitions} partitions); ${reference.oneInvocation.dynamodbPerInvocation.PutItem ?? 0} PutItem draining in one`,
      met: queries === 1 && writes <= reference.partitions + LEASE_WRITES && onlyReadsAndPuts(perInvocation),
    })
  }
  const asInLambda = results.memory?.rows.find(
    (row) => row.nodeOptions !== '' && row.label === 'whole backlog',
  )
  if (asInLambda) {
    checks.push({
      target: `peak RSS draining ${formatNumber(asInLambda.messages)} in one invocation <= 200 MB (Node started as Lambda starts it for 512 MB: ${asInLambda.nodeOptions})`,
      measured: `${formatNumber(asInLambda.peakRssMb.median)} MB (max ${formatNumber(asInLambda.peakRssMb.max)})`,
      met: asInLambda.peakRssMb.median <= 200,
    })
  }
  const cold = results.overhead.find((result) => result.bundle === 'self-contained')
  if (cold) {
    checks.push({
      target: 'cold invocation (import + first invocation, nothing new) <= 300 ms',
      measured: `${formatNumber(cold.coldMs.median)} ms (${formatNumber(cold.coldSinceProcessStartMs.median)} ms with Node's own start)`,
      met: cold.coldMs.median <= 300,
    })
    checks.push({
      target: 'warm invocation, nothing new <= 20 ms',
      measured: `${formatNumber(cold.warmMs.median)} ms (min ${formatNumber(cold.warmMs.min)}, max ${formatNumber(cold.warmMs.max)}, n=${cold.warmMs.n})`,
      met: cold.warmMs.median <= 20,
    })
    const idle = cold.dynamodbPerInvocation
    checks.push({
      target: 'DynamoDB with nothing new: 1 Query, no writes',
      measured: describeCounts(idle),
      met: (idle.Query ?? 0) === 1 && Object.keys(idle).every((operation) => operation === 'Query'),
    })
  }
  return checks
}

function onlyReadsAndPuts(counts: Readonly<Record<string, number>>): boolean {
  return Object.keys(counts).every((operation) => operation === 'Query' || operation === 'PutItem')
}

function describeCounts(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts)
  return entries.length === 0
    ? 'none'
    : entries.map(([operation, count]) => `${count} ${operation}`).join(', ')
}

const spread = (value: Spread, unit = '') =>
  `${formatNumber(value.median)}${unit} (${formatNumber(value.min)}–${formatNumber(value.max)})`

export function renderMarkdown(results: BenchResults, chartPath: string): string {
  const { machine, options } = results
  const lines: string[] = []
  lines.push(
    `Run ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${results.durationS} s: ${machine.cpus} × ${machine.cpuModel}, ${formatNumber(machine.memoryMb / 1024)} GiB;` +
      ` **load average ${machine.loadAverageAtStart.join(' / ')} at the start, ${machine.loadAverageAtEnd.join(' / ')} at the end** (1 / 5 / 15 min);` +
      ` Node ${machine.node}; ${machine.kcat}; commit ${machine.commit}.` +
      ` Scale ${options.scale}${options.scale === 1 ? ' (full size)' : ''}; throughput figures are the median of ${options.repeat} run(s).`,
  )
  if (results.targets.length > 0) {
    lines.push('', '### Targets', '', '| Target | Measured | Met |', '| --- | --- | --- |')
    for (const check of results.targets) {
      lines.push(`| ${check.target} | ${check.measured} | ${check.met ? 'yes' : '**no**'} |`)
    }
  }
  if (results.throughput.length > 0) {
    lines.push(
      '',
      '### Throughput',
      '',
      'The bundled handler (self-contained) in its own process: fetch, decode, JSON parse, a no-op processor, offsets saved to the DynamoDB API.',
      '"One invocation": `MAX_MESSAGES` large enough to drain the backlog at once; "MAX_MESSAGES=1000": the default, invocations back to back in one process.',
      'kcat: `kcat -C -o beginning -e -q` on the same topic, output to /dev/null. MB/s counts message values (10^6 bytes).',
      '',
      '| Scenario | kcat msgs/s | kcat MB/s | one invocation msgs/s | MB/s | × kcat | peak RSS | MAX_MESSAGES=1000 msgs/s | × kcat | invocations | peak RSS |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const result of results.throughput) {
      const one = result.oneInvocation
      const byDefault = result.defaultMaxMessages
      lines.push(
        `| ${formatNumber(result.messages)} × ${sizeOf(result.sizeInBytes)}, ${result.partitions} partition(s) | ${formatNumber(result.kcat.messagesPerSecond)} | ${formatNumber(result.kcat.megabytesPerSecond)}` +
          ` | ${formatNumber(one.messagesPerSecond)} | ${formatNumber(one.megabytesPerSecond)} | **${one.ratioToKcat.toFixed(2)}** | ${formatNumber(one.peakRssMb.median)} MB` +
          ` | ${formatNumber(byDefault.messagesPerSecond)} | ${byDefault.ratioToKcat.toFixed(2)} | ${formatNumber(byDefault.invocations)} | ${formatNumber(byDefault.peakRssMb.median)} MB |`,
      )
    }
    if (results.kcatFixedMs) {
      lines.push(
        '',
        `kcat's fixed cost (start, connect, and the wait that tells it a partition has ended) is part of every kcat time: ${formatNumber(results.kcatFixedMs.median)} ms from start to exit on a topic of 800 small messages.`,
      )
    }
    lines.push('', `![Throughput per scenario, this project beside kcat](${chartPath})`)
    lines.push(
      '',
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
      '### Invocation overhead, nothing new (8 partitions, all consumed)',
      '',
      'Cold: a new Node process imports the bundle and completes one invocation (connect, metadata, offsets read, list offsets); medians (min–max) in ms.',
      'Warm: further invocations in the same process. Self-contained: everything in one file, the WebAssembly helper inlined. Layer-style: as deployed, the bundle alone in a task folder and the Kafka client from the built layer (its pre-bundled lkc-bundle.mjs) through NODE_PATH.',
      '',
      '| Bundle | size (gzip) | import | first invocation | **cold** | cold with Node start | **warm** | peak RSS idle |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const result of results.overhead) {
      lines.push(
        `| ${result.bundle} | ${kib(result.bundleBytes)} (${kib(result.bundleGzipBytes)}) | ${spread(result.importMs)} | ${spread(result.firstInvocationMs)}` +
          ` | **${spread(result.coldMs)}** | ${spread(result.coldSinceProcessStartMs)} | **${spread(result.warmMs)}** (n=${result.warmMs.n}) | ${formatNumber(result.idleRssMb.median)} MB |`,
      )
    }
  }
  const dynamodbRows: string[] = []
  for (const result of results.overhead.filter((candidate) => candidate.bundle === 'self-contained')) {
    dynamodbRows.push(`| nothing new (cold and warm) | ${describeCounts(result.dynamodbPerInvocation)} |`)
  }
  for (const result of results.throughput) {
    dynamodbRows.push(
      `| ${result.scenario}, one invocation (${formatNumber(result.oneInvocation.invocations)}) | ${describeCounts(result.oneInvocation.dynamodbPerInvocation)} |`,
      `| ${result.scenario}, MAX_MESSAGES=1000 (${formatNumber(result.defaultMaxMessages.invocations)} invocations) | ${describeCounts(result.defaultMaxMessages.dynamodbPerInvocation)} |`,
    )
  }
  if (dynamodbRows.length > 0) {
    lines.push(
      '',
      '### DynamoDB requests per invocation (counted at the DynamoDB API server)',
      '',
      '| Run | Requests per invocation |',
      '| --- | --- |',
      ...dynamodbRows,
    )
  }
  if (results.memory) {
    lines.push(
      '',
      `### Peak RSS of one invocation (${results.memory.scenario})`,
      '',
      "Whole process, import included (VmHWM). Without flags V8 sizes its heap from the machine's memory (a young generation of up to 128 MB on a 24 GB machine). Lambda's Node.js runtime starts Node with heap flags sized from the function's memory, on the command line, where they take precedence over `NODE_OPTIONS`; the last two rows use the flags it gives 512 MB.",
      '',
      '| Messages in the invocation | Node flags | peak RSS, median (min–max) | RSS after import |',
      '| --- | --- | ---: | ---: |',
    )
    for (const row of results.memory.rows) {
      lines.push(
        `| ${formatNumber(row.messages)} (${row.label}) | ${row.nodeOptions === '' ? '(none)' : `\`${row.nodeOptions}\``} | ${spread(row.peakRssMb, ' MB')} | ${formatNumber(row.rssAfterImportMb)} MB |`,
      )
    }
  }
  if (results.shards) {
    const { shards } = results
    const speedup = shards.twoShards.messagesPerSecond / shards.oneShard.messagesPerSecond
    lines.push(
      '',
      `### Shards: draining ${formatNumber(shards.messages)} messages (${shards.scenario})`,
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
