import avro from 'avsc'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import type { FetchedRecord } from '../../../../src/ports.ts'
import { FormatError } from '../../../../src/processing/errors.ts'
import { compileAvro } from '../../../../src/processing/registry/avro-schema.ts'
import type { SchemaCompiler } from '../../../../src/processing/registry/compiled-schema.ts'
import {
  SchemaNotFoundError,
  SchemaRegistryUnavailableError,
} from '../../../../src/processing/registry/errors.ts'
import { compileJsonSchema } from '../../../../src/processing/registry/json-schema.ts'
import { compileProtobuf } from '../../../../src/processing/registry/protobuf-schema.ts'
import { RegistryDecoder } from '../../../../src/processing/registry/registry-decoder.ts'
import type { RegistrySchema, SchemaSource } from '../../../../src/processing/registry/schema-source.ts'
import type { RegistryFormat } from '../../../../src/processing/value-formats.ts'
import { confluentFramed, glueFramed, glueProtobufPayload } from '../../../support/schema-registry.ts'

const ORDER_AVRO = JSON.stringify({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'orderId', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
})
const orderType = avro.Type.forSchema(JSON.parse(ORDER_AVRO))

const SHOP_PROTO = `
syntax = "proto3";
package shop;
message Order {
  int64 order_id = 1;
  string item = 2;
  Status status = 3;
  map<string, int32> counts = 4;
  message Line { string sku = 1; int32 quantity = 2; }
  repeated Line lines = 5;
}
message Refund { int64 order_id = 1; bytes reason = 2; }
enum Status { NEW = 0; PAID = 1; }
`
const shop = protobuf.parse(SHOP_PROTO, { keepCase: true }).root

/** A registry in memory; `hold` makes fetches wait until their signal aborts (a registry that hangs). */
class FakeRegistry implements SchemaSource {
  readonly name = 'the test registry'
  readonly fetched: string[] = []
  hold = false
  down = false
  readonly wireFormat: 'confluent' | 'glue'
  readonly schemas: Record<string, RegistrySchema>
  constructor(wireFormat: 'confluent' | 'glue', schemas: Record<string, RegistrySchema>) {
    this.wireFormat = wireFormat
    this.schemas = schemas
  }
  async fetch(id: string, signal: AbortSignal): Promise<RegistrySchema> {
    this.fetched.push(id)
    if (this.hold) {
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    }
    if (this.down) throw new SchemaRegistryUnavailableError(this.name, id, 'HTTP 503')
    const schema = this.schemas[id]
    if (schema === undefined) throw new SchemaNotFoundError(this.name, id)
    return schema
  }
  async check() {
    return { ok: !this.down, detail: this.down ? 'HTTP 503' : 'answers' }
  }
}

const COMPILERS: Record<RegistryFormat, SchemaCompiler> = {
  avro: compileAvro,
  protobuf: compileProtobuf,
  'json-schema': compileJsonSchema,
}

function decoderFor(format: RegistryFormat, source: FakeRegistry, timeoutMs = 1000) {
  return new RegistryDecoder({ format, source, compile: COMPILERS[format], timeoutMs })
}

const asRecords = (...values: Buffer[]): FetchedRecord[] =>
  values.map((value, offset) => ({ offset, timestamp: 0, key: null, value, headers: [] }))

async function prepared(decoder: RegistryDecoder, ...values: Buffer[]) {
  await decoder.prepare(asRecords(...values), 'value', Date.now() + 10_000)
}

function formatError(read: () => unknown): FormatError {
  try {
    read()
  } catch (error) {
    if (error instanceof FormatError) return error
    throw error
  }
  throw new Error('expected a FormatError')
}

describe('RegistryDecoder with Avro', () => {
  it('fetches each schema once, then decodes synchronously from the cache', async () => {
    const source = new FakeRegistry('confluent', { '7': { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source)
    const one = confluentFramed(7, orderType.toBuffer({ orderId: 1, item: 'tea', note: null }))
    const two = confluentFramed(7, orderType.toBuffer({ orderId: 2, item: 'coffee', note: 'hot' }))

    await prepared(decoder, one, two)

    expect(decoder.decode(one, 'value')).toEqual({ orderId: 1, item: 'tea', note: null })
    expect(decoder.decode(two, 'value')).toEqual({ orderId: 2, item: 'coffee', note: 'hot' })
    expect(decoder.prepare(asRecords(one), 'value', Date.now() + 10_000)).toBeUndefined()
    expect(source.fetched).toEqual(['7'])
  })

  it('an unknown schema id is the message fault: unknown-schema, asked again on the next batch', async () => {
    const source = new FakeRegistry('confluent', {})
    const decoder = decoderFor('avro', source)
    const bytes = confluentFramed(99, Buffer.from([2]))

    await prepared(decoder, bytes)
    const error = formatError(() => decoder.decode(bytes, 'value'))

    expect(error.kind).toBe('unknown-schema')
    expect(error.message).toBe(
      'the value names schema 99, which the test registry does not have (deleted, or written with another registry?)',
    )
    await prepared(decoder, bytes)
    expect(source.fetched).toEqual(['99', '99'])
  })

  it('a payload that does not fit its schema is not-avro, naming the schema', async () => {
    const source = new FakeRegistry('confluent', { '7': { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source)
    const truncated = confluentFramed(7, Buffer.from([0x02, 0x10]))

    await prepared(decoder, truncated)
    const error = formatError(() => decoder.decode(truncated, 'value'))

    expect(error.kind).toBe('not-avro')
    expect(error.message).toMatch(/^the value does not decode as Avro with schema 7: /)
  })

  it('a registry that is down, or does not answer in time, is retriable and no FormatError', async () => {
    const source = new FakeRegistry('confluent', { '7': { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source, 50)
    const bytes = confluentFramed(7, orderType.toBuffer({ orderId: 1, item: 'tea', note: null }))

    source.down = true
    await prepared(decoder, bytes)
    expect(() => decoder.decode(bytes, 'value')).toThrow(SchemaRegistryUnavailableError)

    source.down = false
    source.hold = true
    await prepared(decoder, bytes)
    let thrown: unknown
    try {
      decoder.decode(bytes, 'value')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(SchemaRegistryUnavailableError)
    expect((thrown as SchemaRegistryUnavailableError).retriable).toBe(true)
    expect((thrown as Error).message).toContain('no answer within 50 ms')

    source.hold = false
    await prepared(decoder, bytes)
    expect(decoder.decode(bytes, 'value')).toMatchObject({ orderId: 1 })
  })

  it('never waits past the deadline', async () => {
    const source = new FakeRegistry('confluent', { '7': { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source)
    const bytes = confluentFramed(7, Buffer.from([2]))

    await decoder.prepare(asRecords(bytes), 'value', Date.now() - 1)

    expect(source.fetched).toEqual([])
    expect(() => decoder.decode(bytes, 'value')).toThrow('no time left in this invocation')
  })

  it('two batches asking for the same id at once share one fetch', async () => {
    const source = new FakeRegistry('confluent', { '7': { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source)
    const bytes = confluentFramed(7, orderType.toBuffer({ orderId: 1, item: 'tea', note: null }))

    await Promise.all([prepared(decoder, bytes), prepared(decoder, bytes)])

    expect(source.fetched).toEqual(['7'])
  })

  it('a schema of another language fails its messages with the format kind, for good', async () => {
    const source = new FakeRegistry('confluent', { '3': { language: 'protobuf', definition: SHOP_PROTO } })
    const decoder = decoderFor('avro', source)
    const bytes = confluentFramed(3, Buffer.from([0]))

    await prepared(decoder, bytes)

    expect(formatError(() => decoder.decode(bytes, 'value')).message).toBe(
      'the value names schema 3, a Protobuf schema; the format configured is avro',
    )
    expect(decoder.prepare(asRecords(bytes), 'value', Date.now() + 1000)).toBeUndefined()
  })

  it('reads Glue framing, compressed or not', async () => {
    const id = '8a2c2a3e-1b2c-4d5e-8f90-0a1b2c3d4e5f'
    const source = new FakeRegistry('glue', { [id]: { language: 'avro', definition: ORDER_AVRO } })
    const decoder = decoderFor('avro', source)
    const value = orderType.toBuffer({ orderId: 5, item: 'juice', note: null })
    const plain = glueFramed(id, value)
    const zlib = glueFramed(id, value, { zlib: true })

    await prepared(decoder, plain, zlib)

    expect(decoder.decode(plain, 'value')).toEqual(decoder.decode(zlib, 'value'))
    expect(decoder.decode(zlib, 'value')).toMatchObject({ orderId: 5, item: 'juice' })
  })
})

describe('RegistryDecoder with Protobuf', () => {
  const Order = shop.lookupType('shop.Order')
  const Refund = shop.lookupType('shop.Refund')
  const Line = shop.lookupType('shop.Order.Line')
  const order = Order.encode(
    Order.fromObject({
      order_id: '9007199254740993',
      item: 'tea',
      status: 1,
      counts: { a: 2 },
      lines: [{ sku: 'x' }],
    }),
  ).finish()

  it('Confluent: picks the type by its message-index path; 64-bit integers as strings, enums by name, defaults', async () => {
    const source = new FakeRegistry('confluent', { '4': { language: 'protobuf', definition: SHOP_PROTO } })
    const decoder = decoderFor('protobuf', source)
    const first = confluentFramed(4, order, [0])
    const second = confluentFramed(4, Refund.encode(Refund.fromObject({ order_id: 3 })).finish(), [1])
    const nested = confluentFramed(
      4,
      Line.encode(Line.fromObject({ sku: 'y', quantity: 2 })).finish(),
      [0, 0],
    )

    await prepared(decoder, first, second, nested)

    expect(decoder.decode(first, 'value')).toEqual({
      order_id: '9007199254740993',
      item: 'tea',
      status: 'PAID',
      counts: { a: 2 },
      lines: [{ sku: 'x', quantity: 0 }],
    })
    expect(decoder.decode(second, 'value')).toMatchObject({ order_id: '3' })
    expect(decoder.decode(nested, 'value')).toEqual({ sku: 'y', quantity: 2 })
    expect(formatError(() => decoder.decode(confluentFramed(4, order, [5]), 'value')).message).toBe(
      'the value names message index [5], which schema 4 does not have',
    )
  })

  it('Glue: the index is the place among every type sorted by full name, map entries included', async () => {
    // shop.Order, shop.Order.CountsEntry, shop.Order.Line, shop.Refund
    const id = '00000000-0000-4000-8000-000000000001'
    const source = new FakeRegistry('glue', { [id]: { language: 'protobuf', definition: SHOP_PROTO } })
    const decoder = decoderFor('protobuf', source)
    const refund = glueFramed(
      id,
      glueProtobufPayload(3, Refund.encode(Refund.fromObject({ order_id: 8 })).finish()),
    )
    const line = glueFramed(id, glueProtobufPayload(2, Line.encode(Line.fromObject({ sku: 'z' })).finish()))
    const entry = glueFramed(id, glueProtobufPayload(1, Buffer.alloc(0)))

    await prepared(decoder, refund, line, entry)

    expect(decoder.decode(refund, 'value')).toMatchObject({ order_id: '8' })
    expect(decoder.decode(line, 'value')).toEqual({ sku: 'z', quantity: 0 })
    expect(formatError(() => decoder.decode(entry, 'value')).message).toContain('which is no message type')
  })

  it('a .proto that imports something else than a well-known type cannot be used', async () => {
    const definition = 'syntax = "proto3"; import "other.proto"; message A { other.B b = 1; }'
    const source = new FakeRegistry('confluent', { '5': { language: 'protobuf', definition } })
    const decoder = decoderFor('protobuf', source)
    const bytes = confluentFramed(5, Buffer.alloc(0), [0])

    await prepared(decoder, bytes)

    expect(formatError(() => decoder.decode(bytes, 'value')).message).toContain(
      "imports other.proto: only Google's well-known types can be imported (schema references are not supported)",
    )
  })

  it('understands the well-known types', async () => {
    const definition =
      'syntax = "proto3"; import "google/protobuf/timestamp.proto"; message E { google.protobuf.Timestamp at = 1; }'
    const source = new FakeRegistry('confluent', { '6': { language: 'protobuf', definition } })
    const decoder = decoderFor('protobuf', source)
    const root = protobuf.parse(definition, { keepCase: true }).root
    root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')!.nested!)
    const E = root.lookupType('E')
    const bytes = confluentFramed(6, E.encode(E.fromObject({ at: { seconds: 10, nanos: 5 } })).finish(), [0])

    await prepared(decoder, bytes)

    expect(decoder.decode(bytes, 'value')).toEqual({ at: { seconds: '10', nanos: 5 } })
  })
})

describe('RegistryDecoder with JSON Schema', () => {
  const schema = JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { orderId: { type: 'integer' }, item: { type: 'string' } },
    required: ['orderId'],
    'connect.name': 'an annotation of the producer',
  })

  it('parses the JSON after the header and validates it against the schema', async () => {
    const source = new FakeRegistry('confluent', { '2': { language: 'json-schema', definition: schema } })
    const decoder = decoderFor('json-schema', source)
    const good = confluentFramed(2, Buffer.from('{"orderId":1,"item":"tea"}'))
    const bad = confluentFramed(2, Buffer.from('{"item":7}'))
    const notJson = confluentFramed(2, Buffer.from('{oops'))

    await prepared(decoder, good, bad, notJson)

    expect(decoder.decode(good, 'value')).toEqual({ orderId: 1, item: 'tea' })
    const mismatch = formatError(() => decoder.decode(bad, 'value'))
    expect(mismatch.kind).toBe('not-json-schema')
    expect(mismatch.message).toBe(
      "the value does not match its JSON Schema 2: (root) must have required property 'orderId'; /item must be string",
    )
    expect(formatError(() => decoder.decode(notJson, 'value')).message).toMatch(/^the value is not JSON/)
  })

  it('takes the 2020-12 dialect from $schema', async () => {
    const modern = JSON.stringify({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'number' }],
    })
    const source = new FakeRegistry('confluent', { '8': { language: 'json-schema', definition: modern } })
    const decoder = decoderFor('json-schema', source)
    const bad = confluentFramed(8, Buffer.from('["x"]'))

    await prepared(decoder, bad)

    expect(formatError(() => decoder.decode(bad, 'value')).message).toContain('/0 must be number')
  })
})
