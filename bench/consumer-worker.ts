/**
 * One consumer process of the benchmark: imports the bundled Lambda handler (as Lambda's
 * init phase does), builds it with a no-op processor, and runs the invocations its job asks
 * for, reporting timings, counts and memory to the parent over IPC. The configuration comes
 * from the environment, exactly as in Lambda.
 */
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { ParentMessage, WorkerJob, WorkerMessage } from './worker-protocol.ts'
import { WORKER_JOB_VARIABLE } from './worker-protocol.ts'

type HandlerModule = typeof import('../src/lambda/handler.ts')

/**
 * This process's peak resident memory, in KiB. On Linux, the kernel's high-water mark of this
 * process's own memory (VmHWM). Not getrusage's maxRSS: that one survives exec and so starts at
 * the parent's RSS when it forked this process (the parent here holds the DynamoDB API server,
 * 100-200 MB by the end of a run), which hid every peak below it.
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

async function main() {
  const job = JSON.parse(process.env[WORKER_JOB_VARIABLE] ?? 'null') as WorkerJob | null
  if (job === null) throw new Error(`${WORKER_JOB_VARIABLE} is not set`)

  const importStarted = performance.now()
  const module = (await import(pathToFileURL(job.bundle).href)) as HandlerModule
  const handler = module.createHandler({ process: () => {} })
  const importMs = performance.now() - importStarted

  try {
    if (job.mode === 'invocations') {
      const started = performance.now()
      const first = await handler({}, context)
      const firstInvocationMs = performance.now() - started
      const sinceProcessStartMs = performance.now()
      const warmMs: number[] = []
      let messages = first.count
      for (let run = 0; run < job.warmInvocations; run++) {
        const warmStarted = performance.now()
        messages += (await handler({}, context)).count
        warmMs.push(performance.now() - warmStarted)
      }
      await send({
        type: 'invocations',
        importMs,
        firstInvocationMs,
        sinceProcessStartMs,
        warmMs,
        messages,
        maxRssKb: peakRssKb(),
      })
      return
    }

    const rssAfterImportKb = Math.round(process.memoryUsage.rss() / 1024)
    const go = new Promise<void>((resolve) =>
      process.on('message', (message: ParentMessage) => {
        if (message.type === 'go') resolve()
      }),
    )
    await send({ type: 'ready', importMs })
    await go
    const started = performance.now()
    let messages = 0
    let invocations = 0
    let offsetsWritten = 0
    const stopReasons: Record<string, number> = {}
    for (;;) {
      const report = await handler({}, context)
      invocations++
      messages += report.count
      offsetsWritten += report.offsetsWritten
      stopReasons[report.stopReason] = (stopReasons[report.stopReason] ?? 0) + 1
      // Stopping at maxInvocations is how a run measures one invocation; the parent checks counts.
      if (report.stopReason === 'caught-up' || invocations >= job.maxInvocations) break
      if (report.count === 0) {
        throw new Error(
          `The drain did not catch up: invocation ${invocations} ended ${report.stopReason} with ${report.count} message(s)`,
        )
      }
    }
    await send({
      type: 'drain',
      importMs,
      messages,
      invocations,
      elapsedMs: performance.now() - started,
      stopReasons,
      offsetsWritten,
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
