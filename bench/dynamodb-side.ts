/**
 * Starts the benchmark's DynamoDB side (`dynamodb-process.ts`) in its own process and talks to
 * it: the endpoints (direct, and through the latency proxy) and the request counts so far.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import type { OperationCounts } from './counting-dynamodb-server.ts'
import type { DynamoDbSideMessage, DynamoDbSideRequest } from './dynamodb-process.ts'

export interface DynamoDbSide {
  /** The DynamoDB API server itself: no added latency (the old best case). */
  readonly endpoint: string
  /** Through the proxy: every request held `latencyMs` first (the real path). */
  readonly proxyEndpoint: string
  readonly latencyMs: number
  /** Requests per operation since the server started, counted where they arrive. */
  counts(): Promise<OperationCounts>
  /** How long the proxy actually held requests so far (its timer's lateness included). */
  holds(): Promise<{ count: number; meanMs: number; maxMs: number }>
  stop(): Promise<void>
}

export async function startDynamoDbSide(latencyMs: number): Promise<DynamoDbSide> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'dynamodb-process.ts'), [], {
    env: { ...process.env, LKC_BENCH_DYNAMODB_LATENCY_MS: String(latencyMs) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const next = <T extends DynamoDbSideMessage['type']>(type: T) =>
    new Promise<Extract<DynamoDbSideMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: DynamoDbSideMessage) => {
        if (message.type !== type) return
        child.off('message', onMessage)
        child.off('exit', onExit)
        resolve(message as Extract<DynamoDbSideMessage, { type: T }>)
      }
      const onExit = (code: number | null) =>
        reject(new Error(`the benchmark's DynamoDB side exited with ${code} before answering`))
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  const ask = <T extends DynamoDbSideMessage['type']>(request: DynamoDbSideRequest, type: T) => {
    const answer = next(type)
    child.send(request)
    return answer
  }
  const ready = await next('ready')
  return {
    endpoint: ready.endpoint,
    proxyEndpoint: ready.proxyEndpoint,
    latencyMs,
    counts: async () => (await ask({ type: 'counts' }, 'counts')).counts,
    holds: async () => (await ask({ type: 'counts' }, 'counts')).holds,
    stop: async () => {
      if (child.exitCode !== null || !child.connected) return
      await ask({ type: 'stop' }, 'stopped').catch(() => {})
    },
  }
}
