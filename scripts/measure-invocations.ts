/**
 * Measures what the README's cost table needs: how long one invocation of the deployed artifact
 * takes when nothing is new and when 1000 messages wait, and how many log bytes each writes.
 *
 * The bundled handler (dist-like, Kafka client external) runs in its own Node.js process with
 * only the layer on NODE_PATH, as in Lambda, against the local stack (a real Kafka broker and
 * dynalite on loopback). It stays warm between invocations, as an every-minute function does.
 * Local numbers: loopback instead of a VPC network, this machine's CPU instead of the share a
 * 512 MB function gets (about 0.3 vCPU), so read them as a lower bound for the CPU-bound part.
 *
 *   node scripts/measure-invocations.ts [--rounds 7]
 */
import { fork } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createSender, sampleMessages } from '../src/kafka/topics.ts'
import { startLocalStack } from '../src/local/local-stack.ts'
import { bundleLambda } from './build-lambda.ts'
import { buildLayer } from './build-layer.ts'
import { lambdaHeapFlags } from './lambda-node-flags.ts'

interface InvocationResult {
  readonly durationMs: number
  readonly count: number
  readonly rssBytes: number
}

/** Runs in the child: imports the bundle like Lambda's runtime, then invokes on request. */
const RUNNER = `
const started = performance.now()
const { handler } = await import(process.env.HANDLER_MODULE)
process.send({ kind: 'ready', initMs: performance.now() - started })
process.on('message', async (message) => {
  if (message.kind === 'close') {
    await handler.close()
    process.disconnect()
    return
  }
  const begin = performance.now()
  const report = await handler({}, { getRemainingTimeInMillis: () => 300_000, awsRequestId: 'measure' })
  const durationMs = performance.now() - begin
  process.send({ kind: 'result', durationMs, count: report.count, rssBytes: process.memoryUsage().rss })
})
`

const { values } = parseArgs({ options: { rounds: { type: 'string' } } })
const rounds = Number(values.rounds ?? 7)
const topic = 'measure-topic'

const work = await mkdtemp(join(tmpdir(), 'lkc-measure-'))
const task = join(work, 'task')
await mkdir(task)
const hostArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64'
process.stderr.write('Building the bundle and the layer, starting Kafka and dynalite...\n')
const [layer] = await Promise.all([
  buildLayer({ architecture: hostArchitecture, outDir: join(work, 'opt') }),
  bundleLambda({ outfile: join(task, 'index.mjs') }),
])
await writeFile(join(work, 'runner.mjs'), RUNNER)
const stack = await startLocalStack({ topic, partitions: 3 })
const sender = createSender([stack.broker.bootstrapServers])

let logBytes = 0
let logLines = 0
const child = fork(join(work, 'runner.mjs'), [], {
  cwd: task,
  execArgv: lambdaHeapFlags(512),
  env: {
    HOME: tmpdir(),
    HANDLER_MODULE: join(task, 'index.mjs'),
    NODE_PATH: [join(layer.dir, 'nodejs/node24/node_modules'), join(layer.dir, 'nodejs/node_modules')].join(
      ':',
    ),
    ...stack.env,
    KAFKA_TOPIC: topic,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  },
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
})
child.stdout?.on('data', (chunk: Buffer) => {
  logBytes += chunk.length
  for (const byte of chunk) if (byte === 10) logLines++
})

const next = <T>(kind: string) =>
  new Promise<T>((resolve) => {
    const listener = (message: { kind: string } & T) => {
      if (message.kind !== kind) return
      child.off('message', listener)
      resolve(message)
    }
    child.on('message', listener)
  })

async function invoke(): Promise<InvocationResult & { logBytes: number; logLines: number }> {
  const before = logBytes
  const linesBefore = logLines
  const result = next<InvocationResult>('result')
  child.send({ kind: 'invoke' })
  const done = await result
  // Let the last log lines reach the pipe.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return { ...done, logBytes: logBytes - before, logLines: logLines - linesBefore }
}

try {
  const { initMs } = await next<{ initMs: number }>('ready')
  const cold = await invoke()
  const withMessages: Array<Awaited<ReturnType<typeof invoke>>> = []
  const nothingNew: Array<Awaited<ReturnType<typeof invoke>>> = []
  for (let round = 0; round < rounds; round++) {
    await sender.send(topic, sampleMessages(1000, round * 1000))
    const full = await invoke()
    if (full.count !== 1000) throw new Error(`expected 1000 messages, the invocation processed ${full.count}`)
    withMessages.push(full)
    const empty = await invoke()
    if (empty.count !== 0) throw new Error(`expected nothing new, the invocation processed ${empty.count}`)
    nothingNew.push(empty)
  }
  const median = (numbers: number[]) => {
    const sorted = [...numbers].sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)]!
  }
  const row = (name: string, results: Array<Awaited<ReturnType<typeof invoke>>>) => {
    const durations = results.map((result) => result.durationMs)
    const logs = `${median(results.map((r) => r.logLines))} lines, ${median(results.map((r) => r.logBytes))} B`
    const rss = `${(Math.max(...results.map((r) => r.rssBytes)) / 2 ** 20).toFixed(0)} MiB`
    return `| ${name} | ${median(durations).toFixed(0)} ms | ${Math.min(...durations).toFixed(0)}-${Math.max(...durations).toFixed(0)} ms | ${logs} | ${rss} |`
  }
  process.stdout.write(
    [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}-${process.arch}, Node ${process.version}, ${rounds} rounds, warm process (bundle + layer on NODE_PATH, local Kafka ${stack.broker.bootstrapServers}).`,
      `Init (import of the bundle and the layer's client): ${initMs.toFixed(0)} ms; first invocation (connections, metadata): ${cold.durationMs.toFixed(0)} ms.`,
      '',
      '| invocation | median | range | logs written | max RSS |',
      '| --- | --- | --- | --- | --- |',
      row('nothing new', nothingNew),
      row('1000 messages', withMessages),
      '',
    ].join('\n'),
  )
} finally {
  child.send({ kind: 'close' })
  await new Promise((resolve) => child.once('exit', resolve))
  await sender.close()
  await stack.stop()
  await rm(work, { recursive: true, force: true })
}
