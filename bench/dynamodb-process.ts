/**
 * The benchmark's DynamoDB side, a process of its own, as DynamoDB is a network away from a
 * Lambda function: the DynamoDB API server (dynalite, counting requests per operation) and, in
 * front of it, the latency proxy. Started by `dynamodb-side.ts`; answers it over IPC.
 * Its CPU still comes from this machine's two cores, as the broker's and kcat's do.
 */
import { startCountingDynamoDbServer } from './counting-dynamodb-server.ts'
import { startLatencyProxy } from './latency-proxy.ts'

export type DynamoDbSideRequest = { readonly type: 'counts' } | { readonly type: 'stop' }

export type DynamoDbSideMessage =
  | { readonly type: 'ready'; readonly endpoint: string; readonly proxyEndpoint: string }
  | {
      readonly type: 'counts'
      readonly counts: Readonly<Record<string, number>>
      readonly holds: { readonly count: number; readonly meanMs: number; readonly maxMs: number }
    }
  | { readonly type: 'stopped' }

async function main() {
  const latencyMs = Number(process.env.LKC_BENCH_DYNAMODB_LATENCY_MS ?? '0')
  const server = await startCountingDynamoDbServer()
  const proxy = await startLatencyProxy(server.endpoint, latencyMs)
  const reply = (message: DynamoDbSideMessage) => process.send?.(message)
  process.on('message', async (message: DynamoDbSideRequest) => {
    if (message.type === 'counts') {
      reply({ type: 'counts', counts: server.counts(), holds: proxy.holds() })
    } else if (message.type === 'stop') {
      await Promise.allSettled([proxy.stop(), server.stop()])
      reply({ type: 'stopped' })
      process.disconnect()
    }
  })
  // The parent gone (a failed run): nothing is left listening.
  process.on('disconnect', () => process.exit(0))
  reply({ type: 'ready', endpoint: server.endpoint, proxyEndpoint: proxy.endpoint })
}

main().catch((error: unknown) => {
  process.stderr.write(`the benchmark's DynamoDB side failed: ${String(error)}\n`)
  process.exit(1)
})
