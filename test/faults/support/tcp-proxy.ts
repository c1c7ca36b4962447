/**
 * A loopback TCP proxy that can cut a service off: `block()` closes its listening socket
 * (new connections are refused) and destroys the open ones; `unblock()` listens again on the
 * same port. How the fault suite makes DynamoDB unreachable without stopping it (and losing
 * its in-memory tables).
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  block(): Promise<void>
  unblock(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number, port = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
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
      client.pipe(upstream)
      upstream.pipe(client)
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
  const stopListening = async () => {
    const current = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()))
  }
  return {
    port: boundPort,
    endpoint: `http://127.0.0.1:${boundPort}`,
    block: stopListening,
    async unblock() {
      if (server) return
      server = serve()
      await listen(server, boundPort)
    },
    close: stopListening,
  }
}
