/**
 * For the format tests: a small Confluent-compatible schema registry the tests start in their
 * own process (the subset of the REST API a producer and this consumer use), and the wire
 * formats a producer writes (Confluent's and AWS Glue's).
 *
 * Why not a real registry: Apicurio Registry (Confluent-compatible API) is on Maven Central,
 * but neither its 3.3.3 nor its 2.6.13.Final app resolves from there: both depend on
 * `io.apicurio:apicurio-registry-schema-util-provider`, whose POM for those versions is not
 * on Maven Central (Maven then tries repo.eclipse.org and packages.confluent.io, which this
 * machine cannot reach), and 3.0.9's parent POM is not there either. Confluent's registry and
 * Karapace are not on the registries this project may use.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deflateSync } from 'node:zlib'

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

export interface TestSchemaRegistry {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** POST /subjects/{subject}/versions, as a producer's serializer does; the same schema gets the same id. */
  register(subject: string, schema: string, schemaType: SchemaType): Promise<number>
  /** `ok`: answers; `down`: 503 to every read (GET /schemas/ids, /schemas/types); `hang`: never answers one. */
  mode: 'ok' | 'down' | 'hang'
  /** GET /schemas/ids/{id} requests seen, by id. */
  readonly reads: number[]
  stop(): Promise<void>
}

export interface TestSchemaRegistryOptions {
  /** Require HTTP basic auth with this user and password (401 otherwise). */
  readonly auth?: { readonly username: string; readonly password: string }
}

export async function startTestSchemaRegistry(
  options: TestSchemaRegistryOptions = {},
): Promise<TestSchemaRegistry> {
  const schemas: Array<{ schema: string; schemaType: SchemaType }> = []
  const hanging = new Set<ServerResponse>()
  const expectedAuth =
    options.auth &&
    `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
  const registry = {
    url: '',
    mode: 'ok' as TestSchemaRegistry['mode'],
    reads: [] as number[],
  }
  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
    response.end(JSON.stringify(body))
  }
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (expectedAuth !== undefined && request.headers.authorization !== expectedAuth) {
      return send(response, 401, { error_code: 401, message: 'Unauthorized' })
    }
    const url = new URL(request.url ?? '/', 'http://registry')
    const read = /^\/schemas\/ids\/(\d+)$/.exec(url.pathname)
    if (request.method === 'GET' && read) {
      const id = Number(read[1])
      registry.reads.push(id)
      if (registry.mode === 'down') return send(response, 503, { error_code: 50301, message: 'unavailable' })
      if (registry.mode === 'hang') {
        hanging.add(response)
        return
      }
      const found = schemas[id - 1]
      if (found === undefined) return send(response, 404, { error_code: 40403, message: 'Schema not found' })
      return send(response, 200, {
        schema: found.schema,
        ...(found.schemaType !== 'AVRO' && { schemaType: found.schemaType }),
      })
    }
    if (request.method === 'GET' && url.pathname === '/schemas/types') {
      if (registry.mode === 'down') return send(response, 503, { error_code: 50301, message: 'unavailable' })
      if (registry.mode === 'hang') {
        hanging.add(response)
        return
      }
      return send(response, 200, ['JSON', 'PROTOBUF', 'AVRO'])
    }
    const register = /^\/subjects\/([^/]+)\/versions$/.exec(url.pathname)
    if (request.method === 'POST' && register) {
      let text = ''
      for await (const chunk of request) text += chunk
      const body = JSON.parse(text) as { schema: string; schemaType?: SchemaType }
      const schemaType = body.schemaType ?? 'AVRO'
      const existing = schemas.findIndex(
        (entry) => entry.schema === body.schema && entry.schemaType === schemaType,
      )
      if (existing >= 0) return send(response, 200, { id: existing + 1 })
      schemas.push({ schema: body.schema, schemaType })
      return send(response, 200, { id: schemas.length })
    }
    return send(response, 404, { error_code: 404, message: 'Not found' })
  }
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { message: String(error) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  registry.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(registry, {
    async register(subject: string, schema: string, schemaType: SchemaType) {
      const response = await fetch(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          ...(expectedAuth && { authorization: expectedAuth }),
        },
        body: JSON.stringify({ schema, ...(schemaType !== 'AVRO' && { schemaType }) }),
      })
      const { id } = (await response.json()) as { id: number }
      return id
    },
    async stop() {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  })
}

/** A zig-zag varint, as Confluent writes Protobuf message indexes. */
function zigZagVarint(value: number): Buffer {
  return unsignedVarint(value >= 0 ? value * 2 : -value * 2 - 1)
}

/** Confluent: magic byte 0, the schema id (4 bytes, big-endian), [Protobuf message indexes], the payload. */
export function confluentFramed(
  schemaId: number,
  payload: Uint8Array,
  messageIndexes?: readonly number[],
): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(schemaId, 1)
  const indexes =
    messageIndexes === undefined
      ? []
      : messageIndexes.length === 1 && messageIndexes[0] === 0
        ? [Buffer.from([0])]
        : [zigZagVarint(messageIndexes.length), ...messageIndexes.map(zigZagVarint)]
  return Buffer.concat([header, ...indexes, payload])
}

/** AWS Glue: byte 3, compression (0 or 5 = zlib), the schema version UUID (16 bytes), the payload. */
export function glueFramed(
  schemaVersionId: string,
  payload: Uint8Array,
  options: { zlib?: boolean } = {},
): Buffer {
  const uuid = Buffer.from(schemaVersionId.replaceAll('-', ''), 'hex')
  const body = options.zlib ? deflateSync(payload) : Buffer.from(payload)
  return Buffer.concat([Buffer.from([3, options.zlib ? 5 : 0]), uuid, body])
}

/** Glue's Protobuf payload: the message index as an unsigned varint, then the message. */
export function glueProtobufPayload(messageIndex: number, message: Uint8Array): Buffer {
  return Buffer.concat([unsignedVarint(messageIndex), message])
}

function unsignedVarint(value: number): Buffer {
  let rest = value
  const bytes: number[] = []
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}
