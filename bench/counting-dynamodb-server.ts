/**
 * The DynamoDB API (dynalite, in this process) with a counter per operation, read from each
 * request's `X-Amz-Target` header: what the consumers in the worker processes cost in reads
 * and writes, counted where the requests arrive rather than trusted from the client.
 */
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import dynalite from 'dynalite'

export type OperationCounts = Readonly<Record<string, number>>

export interface CountingDynamoDbServer {
  readonly endpoint: string
  /** Requests per operation (`Query`, `PutItem`, ...) since the server started. */
  counts(): OperationCounts
  stop(): Promise<void>
}

export async function startCountingDynamoDbServer(): Promise<CountingDynamoDbServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  const counts: Record<string, number> = {}
  server.on('request', (request: IncomingMessage) => {
    const target = request.headers['x-amz-target']
    const operation = (Array.isArray(target) ? target[0] : target)?.split('.').pop() ?? 'unknown'
    counts[operation] = (counts[operation] ?? 0) + 1
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** `after - before`, per operation, zeros left out. */
export function countsBetween(before: OperationCounts, after: OperationCounts): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [operation, count] of Object.entries(after)) {
    const difference = count - (before[operation] ?? 0)
    if (difference !== 0) delta[operation] = difference
  }
  return delta
}
