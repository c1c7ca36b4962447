/**
 * An HTTP proxy that holds every request for a fixed time before passing it on: the DynamoDB
 * API server on this machine answers in well under a millisecond, DynamoDB in a Region in a few
 * (see bench/README.md), and a checkpoint a run waits for, or a cold start's Query, costs what
 * the network costs. Keep-alive on both sides, as the AWS SDK keeps its connections.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LatencyProxy {
  readonly endpoint: string
  /** How long requests were actually held (the timer's own lateness included), ms. */
  holds(): { readonly count: number; readonly meanMs: number; readonly maxMs: number }
  stop(): Promise<void>
}

export async function startLatencyProxy(target: string, latencyMs: number): Promise<LatencyProxy> {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true })
  let held = 0
  let heldMs = 0
  let maxHeldMs = 0

  const forward = (incoming: IncomingMessage, body: Buffer, response: ServerResponse) => {
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      },
    )
    outgoing.on('error', (error) => {
      response.writeHead(502, { 'content-type': 'text/plain' })
      response.end(`latency proxy: ${target} failed: ${error.message}`)
    })
    outgoing.end(body)
  }

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const arrived = performance.now()
      setTimeout(() => {
        const waited = performance.now() - arrived
        held++
        heldMs += waited
        maxHeldMs = Math.max(maxHeldMs, waited)
        forward(incoming, Buffer.concat(chunks), response)
      }, latencyMs)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    holds: () => ({ count: held, meanMs: held === 0 ? 0 : heldMs / held, maxMs: maxHeldMs }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        agent.destroy()
        server.close(() => resolve())
      }),
  }
}
