/**
 * Every VALUE_FORMAT and KEY_FORMAT end to end: a real producer writes the bytes a serializer
 * writes, the handler reads them through the real broker, the schema registry (a small
 * Confluent-compatible server the test starts, and moto's AWS Glue server), and the real
 * DynamoDB API server; bad values are dead-lettered to moto's SQS with their reason.
 */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateRegistryCommand, CreateSchemaCommand, GlueClient } from '@aws-sdk/client-glue'
import avro from 'avsc'
import protobuf from 'protobufjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod/mini'
import { MessagesFailedError } from '../../../src/cycle/errors.ts'
import { type ConsumerHandler, createHandler, type HandlerOptions } from '../../../src/lambda/handler.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { drainQueue } from '../../support/moto-server.ts'
import { produceBytes } from '../../support/produce-bytes.ts'
import {
  confluentFramed,
  glueFramed,
  glueProtobufPayload,
  startTestSchemaRegistry,
  type TestSchemaRegistry,
} from '../../support/schema-registry.ts'
import { consumerEnv, freshQueue, freshTopic, services, storedItems } from '../../support/services.ts'

const context = { getRemainingTimeInMillis: () => 60_000 }
const handlers: ConsumerHandler[] = []
let registry: TestSchemaRegistry

beforeAll(async () => {
  registry = await startTestSchemaRegistry()
})
afterAll(async () => {
  await registry.stop()
})
afterEach(async () => {
  await Promise.all(handlers.splice(0).map((handler) => handler.close()))
})

const ORDER_AVRO = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'orderId', type: 'long' },
    { name: 'item', type: 'string' },
    { name: 'quantity', type: 'int' },
  ],
}
const orderAvro = avro.Type.forSchema(ORDER_AVRO as avro.Schema)
const KEY_AVRO = {
  type: 'record',
  name: 'OrderKey',
  namespace: 'shop',
  fields: [{ name: 'id', type: 'long' }],
}
const keyAvro = avro.Type.forSchema(KEY_AVRO as avro.Schema)
const SHOP_PROTO = `syntax = "proto3";
package shop;
message Order { int64 order_id = 1; string item = 2; int32 quantity = 3; }
message Refund { int64 order_id = 1; string why = 2; }`
const shop = protobuf.parse(SHOP_PROTO, { keepCase: true }).root
const OrderProto = shop.lookupType('shop.Order')
const RefundProto = shop.lookupType('shop.Refund')
const ORDER_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { orderId: { type: 'integer' }, item: { type: 'string' } },
  required: ['orderId', 'item'],
}

/** A handler that records each message; the env points at the test services, dead letters to a fresh queue. */
async function consumer<Value = unknown, Key = unknown>(
  topic: string,
  env: Record<string, string>,
  options: Omit<HandlerOptions<Value, Key>, 'env' | 'process'> = {},
) {
  const queueUrl = await freshQueue()
  const seen: Array<KafkaMessage<Value, Key>> = []
  const handler = createHandler<Value, Key>({
    ...options,
    env: consumerEnv(topic, { DEAD_LETTER_QUEUE_URL: queueUrl, ...env }),
    process: (message) => void seen.push(message),
  })
  handlers.push(handler)
  const letters = async () =>
    (await drainQueue(services().sqsEndpoint, queueUrl))
      .map(({ body }) => body as { offset: number; reason: string; error: { message: string } })
      .sort((left, right) => left.offset - right.offset)
  return { handler, seen, letters }
}

const confluentEnv = () => ({ SCHEMA_REGISTRY: 'confluent', SCHEMA_REGISTRY_URL: registry.url })

describe('values through a Confluent-compatible registry', () => {
  it('avro: decoded with the schema the message names; a tombstone is null; bad values are dead-lettered with their reason', async () => {
    const topic = await freshTopic(1)
    const id = await registry.register(`${topic}-value`, JSON.stringify(ORDER_AVRO), 'AVRO')
    await produceBytes(topic, [
      {
        key: Buffer.from('o-1'),
        value: confluentFramed(id, orderAvro.toBuffer({ orderId: 1, item: 'tea', quantity: 2 })),
      },
      { key: Buffer.from('o-1'), value: null },
      { key: Buffer.from('o-2'), value: Buffer.from('{"orderId":2}') },
      { key: Buffer.from('o-3'), value: confluentFramed(99_999, Buffer.from([2])) },
      { key: Buffer.from('o-4'), value: confluentFramed(id, Buffer.from([0x02])) },
      {
        key: Buffer.from('o-5'),
        value: confluentFramed(id, orderAvro.toBuffer({ orderId: 5, item: 'jam', quantity: 1 })),
      },
    ])
    const { handler, seen, letters } = await consumer(topic, { VALUE_FORMAT: 'avro', ...confluentEnv() })

    const report = await handler({}, context)

    expect(seen.map((message) => [message.offset, message.key, message.value])).toEqual([
      [0, 'o-1', { orderId: 1, item: 'tea', quantity: 2 }],
      [1, 'o-1', null],
      [5, 'o-5', { orderId: 5, item: 'jam', quantity: 1 }],
    ])
    const dead = await letters()
    expect(dead.map((letter) => [letter.offset, letter.reason])).toEqual([
      [2, 'not-avro'],
      [3, 'unknown-schema'],
      [4, 'not-avro'],
    ])
    expect(dead[0]!.error.message).toContain(
      'is not avro in the Confluent wire format (magic byte 0 and a 4-byte schema id): its first byte is 0x7b',
    )
    expect(dead[1]!.error.message).toContain(
      `names schema 99999, which the schema registry at ${registry.url} does not have`,
    )
    expect(dead[2]!.error.message).toContain(`does not decode as Avro with schema ${id}`)
    expect(report).toMatchObject({ count: 3, deadLettered: 3 })
    expect((await storedItems(`lambda-consumer-group_${topic}`))[0]?.offset).toBe(5)
  })

  it('protobuf values with avro keys: each part through its own schema; a wrong message index is not-protobuf', async () => {
    const topic = await freshTopic(1)
    const valueId = await registry.register(`${topic}-value`, SHOP_PROTO, 'PROTOBUF')
    const keyId = await registry.register(`${topic}-key`, JSON.stringify(KEY_AVRO), 'AVRO')
    const key = (id: number) => confluentFramed(keyId, keyAvro.toBuffer({ id }))
    await produceBytes(topic, [
      {
        key: key(1),
        value: confluentFramed(
          valueId,
          OrderProto.encode({ order_id: 1, item: 'tea', quantity: 3 }).finish(),
          [0],
        ),
      },
      {
        key: key(2),
        value: confluentFramed(valueId, RefundProto.encode({ order_id: 2, why: 'late' }).finish(), [1]),
      },
      { key: key(3), value: confluentFramed(valueId, Buffer.from([0x08, 0x01]), [7]) },
      { key: Buffer.from('plain key'), value: confluentFramed(valueId, Buffer.alloc(0), [0]) },
    ])
    const { handler, seen, letters } = await consumer(topic, {
      VALUE_FORMAT: 'protobuf',
      KEY_FORMAT: 'avro',
      ...confluentEnv(),
    })

    await handler({}, context)

    expect(seen.map((message) => [message.key, message.value])).toEqual([
      [{ id: 1 }, { order_id: '1', item: 'tea', quantity: 3 }],
      [{ id: 2 }, { order_id: '2', why: 'late' }],
    ])
    expect((await letters()).map((letter) => [letter.offset, letter.reason])).toEqual([
      [2, 'not-protobuf'],
      [3, 'key-not-avro'],
    ])
  })

  it('json-schema: parsed and validated against the registered schema', async () => {
    const topic = await freshTopic(1)
    const id = await registry.register(`${topic}-value`, JSON.stringify(ORDER_JSON_SCHEMA), 'JSON')
    await produceBytes(topic, [
      { value: confluentFramed(id, Buffer.from('{"orderId":1,"item":"tea"}')) },
      { value: confluentFramed(id, Buffer.from('{"orderId":"2"}')) },
    ])
    const { handler, seen, letters } = await consumer(topic, {
      VALUE_FORMAT: 'json-schema',
      ...confluentEnv(),
    })

    await handler({}, context)

    expect(seen.map((message) => message.value)).toEqual([{ orderId: 1, item: 'tea' }])
    const [letter] = await letters()
    expect(letter).toMatchObject({ offset: 1, reason: 'not-json-schema' })
    expect(letter!.error.message).toContain(
      `does not match its JSON Schema ${id}: (root) must have required property 'item'; /orderId must be integer`,
    )
  })

  it('a registry out of reach stops the partition before the message, dead-letters nothing, and the next run goes on', async () => {
    const topic = await freshTopic(1)
    const id = await registry.register(
      `${topic}-value`,
      JSON.stringify({ ...ORDER_AVRO, name: `Order${topic.slice(2)}` }),
      'AVRO',
    )
    const framed = (orderId: number) =>
      confluentFramed(id, orderAvro.toBuffer({ orderId, item: 'tea', quantity: 1 }))
    await produceBytes(topic, [{ value: framed(1) }, { value: framed(2) }])
    const { handler, seen, letters } = await consumer(topic, {
      VALUE_FORMAT: 'avro',
      ...confluentEnv(),
      SCHEMA_REGISTRY_TIMEOUT_MS: '300',
    })

    registry.mode = 'hang'
    const failed = await handler({}, context).catch((error: unknown) => error)
    registry.mode = 'ok'

    expect(failed).toBeInstanceOf(MessagesFailedError)
    expect((failed as Error).message).toContain(
      `Could not fetch schema ${id} from the schema registry at ${registry.url}: no answer within 300 ms`,
    )
    expect(seen).toEqual([])
    expect(await letters()).toEqual([])
    expect(await storedItems(`lambda-consumer-group_${topic}`)).toEqual([])

    const readsBefore = registry.reads.filter((read) => read === id).length
    const report = await handler({}, context)
    await produceBytes(topic, [{ value: framed(3) }])
    await handler({}, context)

    expect(report.count).toBe(2)
    expect(seen.map((message) => (message.value as { orderId: number }).orderId)).toEqual([1, 2, 3])
    // Fetched once when the registry answered, then kept across warm invocations.
    expect(registry.reads.filter((read) => read === id).length - readsBefore).toBe(1)
  })

  it('basic auth from the Kafka secret; without it the partition stops with the fix named', async () => {
    const guarded = await startTestSchemaRegistry({ auth: { username: 'reader', password: 'reader-secret' } })
    try {
      const topic = await freshTopic(1)
      const id = await guarded.register(`${topic}-value`, JSON.stringify(ORDER_AVRO), 'AVRO')
      await produceBytes(topic, [
        { value: confluentFramed(id, orderAvro.toBuffer({ orderId: 7, item: 'tea', quantity: 1 })) },
      ])
      const secretFile = join(tmpdir(), `lkc-registry-${topic}.json`)
      await writeFile(
        secretFile,
        JSON.stringify({ schemaRegistryUsername: 'reader', schemaRegistryPassword: 'reader-secret' }),
      )
      const env = { VALUE_FORMAT: 'avro', SCHEMA_REGISTRY: 'confluent', SCHEMA_REGISTRY_URL: guarded.url }

      const anonymous = await consumer(topic, env)
      const refused = await anonymous.handler({}, context).catch((error: unknown) => error)
      const authorized = await consumer(topic, { ...env, KAFKA_SECRET_FILE: secretFile })
      await authorized.handler({}, context)

      expect((refused as Error).message).toContain('refused to give schema')
      expect((refused as Error).message).toContain('"schemaRegistryUsername"')
      expect(await anonymous.letters()).toEqual([])
      expect(authorized.seen.map((message) => message.value)).toEqual([
        { orderId: 7, item: 'tea', quantity: 1 },
      ])
    } finally {
      await guarded.stop()
    }
  })
})

describe('values through the AWS Glue Schema Registry (moto)', () => {
  const glue = () =>
    new GlueClient({
      endpoint: services().sqsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
  const glueEnv = () => ({
    SCHEMA_REGISTRY: 'glue',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_GLUE: services().sqsEndpoint,
  })

  async function registerInGlue(name: string, dataFormat: 'AVRO' | 'PROTOBUF' | 'JSON', definition: string) {
    const client = glue()
    try {
      await client.send(new CreateRegistryCommand({ RegistryName: name }))
      const created = await client.send(
        new CreateSchemaCommand({
          RegistryId: { RegistryName: name },
          SchemaName: name,
          DataFormat: dataFormat,
          Compatibility: 'NONE',
          SchemaDefinition: definition,
        }),
      )
      return created.SchemaVersionId!
    } finally {
      client.destroy()
    }
  }

  it('avro, compressed or not; an unknown schema version is dead-lettered', async () => {
    const topic = await freshTopic(1)
    const versionId = await registerInGlue(topic, 'AVRO', JSON.stringify(ORDER_AVRO))
    const order = orderAvro.toBuffer({ orderId: 1, item: 'tea', quantity: 2 })
    await produceBytes(topic, [
      { value: glueFramed(versionId, order) },
      { value: glueFramed(versionId, order, { zlib: true }) },
      { value: glueFramed('00000000-0000-4000-8000-000000000000', order) },
      { value: confluentFramed(1, order) },
    ])
    const { handler, seen, letters } = await consumer(topic, { VALUE_FORMAT: 'avro', ...glueEnv() })

    await handler({}, context)

    expect(seen.map((message) => message.value)).toEqual([
      { orderId: 1, item: 'tea', quantity: 2 },
      { orderId: 1, item: 'tea', quantity: 2 },
    ])
    const dead = await letters()
    expect(dead.map((letter) => [letter.offset, letter.reason])).toEqual([
      [2, 'unknown-schema'],
      [3, 'not-avro'],
    ])
    expect(dead[0]!.error.message).toContain('which the AWS Glue Schema Registry (us-east-1) does not have')
    expect(dead[1]!.error.message).toContain('it looks like Confluent framing')
  })

  it('protobuf: the type by its Glue message index (sorted full names)', async () => {
    const topic = await freshTopic(1)
    const versionId = await registerInGlue(topic, 'PROTOBUF', SHOP_PROTO)
    // shop.Order = 0, shop.Refund = 1
    await produceBytes(topic, [
      {
        value: glueFramed(
          versionId,
          glueProtobufPayload(1, RefundProto.encode({ order_id: 4, why: 'broken' }).finish()),
        ),
      },
      {
        value: glueFramed(
          versionId,
          glueProtobufPayload(0, OrderProto.encode({ order_id: 5, item: 'jam' }).finish()),
        ),
      },
    ])
    const { handler, seen } = await consumer(topic, { VALUE_FORMAT: 'protobuf', ...glueEnv() })

    await handler({}, context)

    expect(seen.map((message) => message.value)).toEqual([
      { order_id: '4', why: 'broken' },
      { order_id: '5', item: 'jam', quantity: 0 },
    ])
  })

  it('json-schema: validated against the schema version', async () => {
    const topic = await freshTopic(1)
    const versionId = await registerInGlue(topic, 'JSON', JSON.stringify(ORDER_JSON_SCHEMA))
    await produceBytes(topic, [
      { value: glueFramed(versionId, Buffer.from('{"orderId":1,"item":"tea"}')) },
      { value: glueFramed(versionId, Buffer.from('{"item":"no id"}'), { zlib: true }) },
    ])
    const { handler, seen, letters } = await consumer(topic, { VALUE_FORMAT: 'json-schema', ...glueEnv() })

    await handler({}, context)

    expect(seen.map((message) => message.value)).toEqual([{ orderId: 1, item: 'tea' }])
    expect((await letters()).map((letter) => [letter.offset, letter.reason])).toEqual([
      [1, 'not-json-schema'],
    ])
  })
})

describe('the plain formats, headers, the filter and the schema', () => {
  it('string and bytes values, bytes and json keys; a value that is not UTF-8 text is dead-lettered', async () => {
    const topic = await freshTopic(1)
    await produceBytes(topic, [
      { key: Buffer.from([0x00, 0xff]), value: Buffer.from('caf\u00e9 au lait') },
      { key: Buffer.from([0x01]), value: Buffer.from([0xc3, 0x28]) },
      { key: null, value: null },
    ])
    const text = await consumer(topic, { VALUE_FORMAT: 'string', KEY_FORMAT: 'bytes' })
    const raw = await consumer(topic, {
      VALUE_FORMAT: 'bytes',
      KEY_FORMAT: 'bytes',
      KAFKA_GROUP_ID: 'raw-reader',
    })

    await text.handler({}, context)
    await raw.handler({}, context)

    expect(text.seen.map((message) => [message.key, message.value])).toEqual([
      [Buffer.from([0x00, 0xff]), 'caf\u00e9 au lait'],
      [null, null],
    ])
    expect((await text.letters()).map((letter) => [letter.offset, letter.reason])).toEqual([[1, 'not-utf8']])
    expect(raw.seen.map((message) => message.value)).toEqual([
      Buffer.from('caf\u00e9 au lait'),
      Buffer.from([0xc3, 0x28]),
      null,
    ])
  })

  it('keeps repeated headers in order and a header named __proto__', async () => {
    const topic = await freshTopic(1)
    await produceBytes(topic, [
      {
        value: Buffer.from('{}'),
        headers: [
          ['hop', 'a'],
          ['__proto__', 'kept'],
          ['hop', 'b'],
        ],
      },
    ])
    const { handler, seen } = await consumer(topic, { KEY_FORMAT: 'json' })

    await handler({}, context)

    const [message] = seen
    expect(message!.headers.entries()).toEqual([
      ['hop', 'a'],
      ['__proto__', 'kept'],
      ['hop', 'b'],
    ])
    expect(message!.headers.get('hop')).toBe('b')
    expect(message!.headers.getAll('hop')).toEqual(['a', 'b'])
    expect(message!.headers.get('__proto__')).toBe('kept')
  })

  it('a filter leaves messages out (their offsets move, they are counted); the schema dead-letters what fails it', async () => {
    const topic = await freshTopic(1)
    const Order = z.object({ type: z.literal('order'), orderId: z.number() })
    await produceBytes(topic, [
      { value: Buffer.from('{"type":"order","orderId":1}') },
      { value: Buffer.from('{"type":"heartbeat"}') },
      { value: Buffer.from('{"type":"order","orderId":"two"}') },
      { value: null },
      { value: Buffer.from('{"type":"order","orderId":4}') },
    ])
    const { handler, seen, letters } = await consumer<z.infer<typeof Order>>(
      topic,
      {},
      {
        schema: Order,
        filter: (message) => (message.value as { type?: string } | null)?.type !== 'heartbeat',
      },
    )

    const report = await handler({}, context)

    expect(seen.map((message) => [message.offset, message.value?.orderId ?? null])).toEqual([
      [0, 1],
      [3, null],
      [4, 4],
    ])
    expect(report).toMatchObject({ count: 3, filtered: 1, deadLettered: 1 })
    expect(report.partitions[0]).toMatchObject({ count: 3, filtered: 1, deadLettered: 1, toOffset: 4 })
    const [letter] = await letters()
    expect(letter).toMatchObject({ offset: 2, reason: 'schema' })
    expect(letter!.error.message).toContain('the value does not match the schema: orderId: Invalid input')
  })
})
