/**
 * One consumer process of the benchmark: imports the bundled Lambda handler (as Lambda's
 * init phase does), builds it with the processor its job names, and runs the invocations its
 * job asks for, reporting timings, counts and memory to the parent over IPC. The configuration
 * comes from the environment, exactly as in Lambda.
 */
import { subscribe } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import type { ClientRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import type {
  InvocationRequests,
  ParentMessage,
  ProcessorKind,
  WorkerJob,
  WorkerMessage,
} from './worker-protocol.ts'
import { WORKER_JOB_VARIABLE } from './worker-protocol.ts'

type HandlerModule = typeof import('../src/lambda/default-handler.ts')
type ConsumerHandler = ReturnType<HandlerModule['createHandler']>

/**
 * This process's peak resident memory, in KiB. On Linux, the kernel's high-water mark of this
 * process's own memory (VmHWM). Not getrusage's maxRSS: that one survives exec and so starts at
 * the parent's RSS when it forked this process, which hid every peak below it.
 */
function peakRssKb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) return Number(match[1])
  } catch {
    // Not Linux: getrusage's figure, with its caveat.
  }
  return process.resourceUsage().maxRSS
}

/** Lambda's longest timeout: the benchmark's runs end by catching up, never by the clock. */
const context = { getRemainingTimeInMillis: () => 900_000 }

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('consumer-worker.ts runs only as a child of bench/run.ts (it needs an IPC channel)'))
      return
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()))
  })
}

function handlerOf(module: HandlerModule, kind: ProcessorKind): ConsumerHandler {
  switch (kind) {
    case 'async':
      return module.createHandler({ async process() {} })
    case 'sync':
      return module.createHandler({ process: () => {} })
    case 'io-5ms':
      return module.createHandler({
        async process() {
          await sleep(5)
        },
      })
    case 'default':
      return module.handler
  }
}

/** Kafka API keys the consumer sends, by name (the rest are counted by number). */
const KAFKA_APIS: Readonly<Record<number, string>> = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  17: 'SaslHandshake',
  18: 'ApiVersions',
  36: 'SaslAuthenticate',
}

/**
 * Counts the requests this process sends, through the diagnostics channels Node's HTTP client
 * (the AWS SDK's transport) and the Kafka client publish on: DynamoDB by operation
 * (`X-Amz-Target`), Kafka by API, and for each the round trips in a row (a request sent while
 * none of its system's was waiting for an answer starts one). Subscribed only when counting: a
 * channel with a subscriber costs its publisher a little on every request.
 */
function countRequests() {
  let dynamodb: Record<string, number> = {}
  let kafka: Record<string, number> = {}
  const inFlight = { dynamodb: 0, kafka: 0 }
  let roundTrips = { dynamodb: 0, kafka: 0 }
  const sent = (system: 'dynamodb' | 'kafka') => {
    if (inFlight[system]++ === 0) roundTrips[system]++
  }
  const answered = (system: 'dynamodb' | 'kafka') => {
    inFlight[system] = Math.max(0, inFlight[system] - 1)
  }
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest }
    const target = request.getHeader('x-amz-target')
    const operation = typeof target === 'string' ? (target.split('.').pop() ?? target) : 'other HTTP'
    dynamodb[operation] = (dynamodb[operation] ?? 0) + 1
    sent('dynamodb')
  })
  subscribe('http.client.response.finish', () => answered('dynamodb'))
  subscribe('http.client.request.error', () => answered('dynamodb'))
  subscribe('tracing:plt:kafka:connections:api:start', (message) => {
    const { apiKey } = message as { apiKey: number }
    const api = KAFKA_APIS[apiKey] ?? `api ${apiKey}`
    kafka[api] = (kafka[api] ?? 0) + 1
    sent('kafka')
  })
  // Published when the answer (or the broker's error) arrives.
  subscribe('tracing:plt:kafka:connections:api:asyncStart', () => answered('kafka'))
  return {
    /** The requests since the last call. */
    take(): InvocationRequests {
      const taken = { dynamodb, kafka, roundTrips }
      dynamodb = {}
      kafka = {}
      roundTrips = { dynamodb: 0, kafka: 0 }
      return taken
    },
  }
}

async function main() {
  const job = JSON.parse(process.env[WORKER_JOB_VARIABLE] ?? 'null') as WorkerJob | null
  if (job === null) throw new Error(`${WORKER_JOB_VARIABLE} is not set`)
  const counter = job.mode === 'invocations' ? countRequests() : undefined

  const importStarted = performance.now()
  const module = (await import(pathToFileURL(job.bundle).href)) as HandlerModule
  const handler = handlerOf(module, job.processor)
  const importMs = performance.now() - importStarted

  try {
    if (job.mode === 'invocations') {
      const started = performance.now()
      const first = await handler({}, context)
      const firstInvocationMs = performance.now() - started
      const sinceProcessStartMs = performance.now()
      const requests = [counter!.take()]
      const warmMs: number[] = []
      let messages = first.count
      for (let run = 0; run < job.warmInvocations; run++) {
        const warmStarted = performance.now()
        messages += (await handler({}, context)).count
        warmMs.push(performance.now() - warmStarted)
        requests.push(counter!.take())
      }
      await send({
        type: 'invocations',
        importMs,
        firstInvocationMs,
        sinceProcessStartMs,
        warmMs,
        requests,
        messages,
        maxRssKb: peakRssKb(),
      })
      return
    }

    const rssAfterImportKb = Math.round(process.memoryUsage.rss() / 1024)
    if (job.waitForGo) {
      const go = new Promise<void>((resolve) =>
        process.on('message', (message: ParentMessage) => {
          if (message.type === 'go') resolve()
        }),
      )
      await send({ type: 'ready', importMs })
      await go
    }
    const started = performance.now()
    let messages = 0
    let invocations = 0
    let offsetsWritten = 0
    let checkpoints = 0
    const stopReasons: Record<string, number> = {}
    for (;;) {
      const report = await handler({}, context)
      invocations++
      messages += report.count
      offsetsWritten += report.offsetsWritten
      checkpoints += report.checkpoints
      stopReasons[report.stopReason] = (stopReasons[report.stopReason] ?? 0) + 1
      // Stopping at maxInvocations is how a run measures one invocation; the parent checks counts.
      if (report.stopReason === 'caught-up' || invocations >= job.maxInvocations) break
      if (report.count === 0) {
        throw new Error(
          `The drain did not catch up: invocation ${invocations} ended ${report.stopReason} with ${report.count} message(s)`,
        )
      }
    }
    const ended = performance.now()
    await send({
      type: 'drain',
      importMs,
      messages,
      invocations,
      elapsedMs: ended - started,
      sinceProcessStartMs: ended,
      stopReasons,
      offsetsWritten,
      checkpoints,
      maxRssKb: peakRssKb(),
      rssAfterImportKb,
    })
  } finally {
    await handler.close()
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    })
    process.exit(1)
  },
)
