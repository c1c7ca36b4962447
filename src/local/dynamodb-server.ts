/**
 * The DynamoDB API on loopback, served in this process by dynalite (Apache-2.0), in memory.
 * It speaks the real DynamoDB wire protocol, so the AWS SDK and the offset store talk to it
 * exactly as they talk to AWS. It has no transactions; the offset store needs none.
 */
import type { AddressInfo } from 'node:net'
import dynalite from 'dynalite'

export interface DynamoDbServer {
  /** `http://127.0.0.1:<port>`, for DYNAMODB_ENDPOINT. */
  readonly endpoint: string
  stop(): Promise<void>
}

export async function startDynamoDbServer(options: { port?: number } = {}): Promise<DynamoDbServer> {
  // createTableMs: 0 makes new tables ACTIVE at once (the default delay only slows tests).
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
