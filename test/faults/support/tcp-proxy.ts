/**
 * A loopback TCP proxy that can cut a service off, in two ways:
 * - `block()` closes its listening socket (new connections are refused) and destroys the open
 *   ones: a service that is down;
 * - `blackHole()` keeps accepting connections and reading what they send, and never answers
 *   nor closes, on new connections and on the open ones alike: a service (or a network path)
 *   that hangs, which only a client's own time bounds can get out of.
 * `unblock()` ends either: it listens again on the same port, and drops the connections that
 * were black-holed (their requests are lost halfway). How the fault suite makes DynamoDB or
 * SQS unreachable without stopping them (and losing their in-memory state).
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  block(): Promise<void>
  blackHole(): void
  unblock(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let silent = false
  const serve = (): Server =>
    createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1')
      sockets.add(client)
      sockets.add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      // Not `pipe`: a black hole reads everything and forwards nothing, either way.
      client.on('data', (chunk) => {
        if (!silent) upstream.write(chunk)
      })
      upstream.on('data', (chunk) => {
        if (!silent) client.write(chunk)
      })
    })
  const listen = (server: Server, onPort: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(onPort, '127.0.0.1', () => {
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : onPort)
      })
    })
  let server: Server | undefined = serve()
  const boundPort = await listen(server, port)
  const dropAll = () => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
  }
  const stopListening = async () => {
    const current = server
    server = undefined
    dropAll()
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()))
  }
  return {
    port: boundPort,
    endpoint: `http://127.0.0.1:${boundPort}`,
    block: stopListening,
    blackHole() {
      silent = true
    },
    async unblock() {
      if (silent) {
        silent = false
        dropAll()
      }
      if (server) return
      server = serve()
      await listen(server, boundPort)
    },
    async close() {
      silent = false
      await stopListening()
    },
  }
}
