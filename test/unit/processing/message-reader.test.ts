import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, it } from 'vitest'
import * as z from 'zod/mini'
import type { FetchedRecord } from '../../../src/ports.ts'
import { MessageDecodeError } from '../../../src/processing/errors.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { createMessageReader, FILTERED, type Readout } from '../../../src/processing/message-reader.ts'
import {
  bytesDecoder,
  jsonDecoder,
  plainDecoder,
  stringDecoder,
} from '../../../src/processing/value-formats.ts'

const base: FetchedRecord = {
  offset: 42,
  timestamp: 1_700_000_000_000,
  key: Buffer.from('order-1'),
  value: null,
  headers: [],
}

function readNow(
  reader: ReturnType<typeof createMessageReader>,
  record: Partial<FetchedRecord>,
): KafkaMessage<unknown, unknown> {
  const readout = reader.read('orders', 3, { ...base, ...record })
  if (readout === FILTERED || readout instanceof Promise)
    throw new Error(`expected a message, got ${String(readout)}`)
  return readout
}

function decodeError(read: () => unknown): MessageDecodeError {
  try {
    read()
  } catch (error) {
    if (error instanceof MessageDecodeError) return error
    throw error
  }
  throw new Error('expected a MessageDecodeError')
}

describe('createMessageReader, JSON values (the default)', () => {
  const reader = createMessageReader()

  it('parses the value as JSON, the key as text, and keeps the raw bytes', () => {
    const value = Buffer.from('{"orderId":1,"note":"caf\u00e9"}')
    const message = readNow(reader, { value, headers: [[Buffer.from('trace'), Buffer.from('abc')]] })

    expect(message).toMatchObject({
      topic: 'orders',
      partition: 3,
      offset: 42,
      timestamp: 1_700_000_000_000,
      key: 'order-1',
      value: { orderId: 1, note: 'caf\u00e9' },
    })
    expect(message.headers.get('trace')).toBe('abc')
    expect(message.raw.value).toBe(value)
  })

  it.each([
    ['not JSON', Buffer.from('hello'), 'not-json', 'the value is not JSON'],
    ['empty', Buffer.alloc(0), 'empty-value', 'the value is empty (0 bytes), not JSON'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not-utf8', 'the value is not valid UTF-8'],
  ])(
    'rejects a value that is %s with the position, the kind and the reason',
    (_name, value, kind, reason) => {
      const error = decodeError(() => reader.read('orders', 1, { ...base, value }))

      expect(error.kind).toBe(kind)
      expect(error.message).toContain(reason)
      expect(error.message).toContain('orders/1@42')
    },
  )

  it.each([
    ['{"card":x4111-1111-1111-1111}', 'unexpected token; the content is not shown'],
    ['card 4111-1111-1111-1111', 'unexpected token; the content is not shown'],
    ['{"card":"4111-1111-1111-1111",', 'Expected double-quoted property name in JSON at position 30'],
  ])('keeps the content out of the reason, which is logged at ERROR: %s', (text, reason) => {
    const error = decodeError(() => reader.read('orders', 1, { ...base, value: Buffer.from(text) }))

    expect(error.reason).toContain(reason)
    expect(error.message).not.toContain('4111')
  })

  it.each([
    [
      'a lone continuation byte among non-ASCII text',
      Buffer.from([...Buffer.from('"caf\u00e9'), 0x80, 0x22]),
    ],
    ['a surrogate encoded in UTF-8 (CESU)', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['an overlong encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['a sequence cut short at the end', Buffer.from([0x22, 0x61, 0x22, 0xe2, 0x82])],
  ])('rejects as not UTF-8 %s, however the text around it decodes', (_name, value) => {
    expect(decodeError(() => reader.read('orders', 1, { ...base, value })).kind).toBe('not-utf8')
  })

  it('accepts a real U+FFFD in the value (valid UTF-8 for the replacement character)', () => {
    expect(readNow(reader, { value: Buffer.from('{"note":"\ufffd and caf\u00e9"}') }).value).toEqual({
      note: '\ufffd and caf\u00e9',
    })
  })

  it('gives a tombstone a null value and a missing key a null key', () => {
    expect(readNow(reader, { key: null, value: null })).toMatchObject({ key: null, value: null })
  })

  it('reads a key that is not UTF-8 leniently, as keys always were', () => {
    expect(readNow(reader, { key: Buffer.from([0x6b, 0xff]), value: Buffer.from('1') }).key).toBe('k\ufffd')
  })

  it('needs nothing fetched before reading', () => {
    expect(reader.prepare([{ ...base, value: Buffer.from('{}') }], Number.POSITIVE_INFINITY)).toBeUndefined()
  })
})

describe('the plain formats', () => {
  it('string: the value as UTF-8 text, strictly; an empty value is the empty string', () => {
    const reader = createMessageReader({ value: stringDecoder })

    expect(readNow(reader, { value: Buffer.from('hello, caf\u00e9') }).value).toBe('hello, caf\u00e9')
    expect(readNow(reader, { value: Buffer.alloc(0) }).value).toBe('')
    expect(readNow(reader, { value: Buffer.from('\ufffd') }).value).toBe('\ufffd')
    const error = decodeError(() => reader.read('orders', 0, { ...base, value: Buffer.from([0xff]) }))
    expect(error.kind).toBe('not-utf8')
    expect(error.reason).toContain('use bytes for binary data')
  })

  it('bytes: the value as it came, the very Buffer of raw', () => {
    const value = Buffer.from([0x00, 0xff, 0x10])
    const message = readNow(createMessageReader({ value: bytesDecoder }), { value })

    expect(message.value).toBe(value)
  })

  it('a tombstone is null in every format', () => {
    for (const decoder of [jsonDecoder, stringDecoder, bytesDecoder]) {
      expect(readNow(createMessageReader({ value: decoder }), { value: null }).value).toBeNull()
    }
  })

  it('keys in json and bytes; a key that is not JSON is reported as the key', () => {
    const json = createMessageReader({ key: plainDecoder('json', 'key')! })
    expect(readNow(json, { key: Buffer.from('{"id":7}'), value: Buffer.from('1') }).key).toEqual({ id: 7 })
    const error = decodeError(() =>
      json.read('orders', 0, { ...base, key: Buffer.from('id-7'), value: Buffer.from('1') }),
    )
    expect(error.kind).toBe('key-not-json')
    expect(error.reason).toContain('the key is not JSON')

    const bytes = createMessageReader({ key: plainDecoder('bytes', 'key')! })
    expect(readNow(bytes, { key: Buffer.from([1, 2]), value: Buffer.from('1') }).key).toEqual(
      Buffer.from([1, 2]),
    )
  })
})

describe('the filter', () => {
  it('leaves out what it returns false for, and sees the decoded message', () => {
    const seen: unknown[] = []
    const reader = createMessageReader({
      filter: (message) => {
        seen.push(message.value)
        return message.headers.get('type') === 'order'
      },
    })
    const order = reader.read('orders', 0, {
      ...base,
      value: Buffer.from('{"n":1}'),
      headers: [[Buffer.from('type'), Buffer.from('order')]],
    })
    const other = reader.read('orders', 0, { ...base, value: Buffer.from('{"n":2}') })

    expect(order).toMatchObject({ value: { n: 1 } })
    expect(other).toBe(FILTERED)
    expect(seen).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('a filter that throws makes the message unreadable: filter-failed, with the error', () => {
    const reader = createMessageReader({
      filter: () => {
        throw new Error('cannot read properties of null')
      },
    })

    const error = decodeError(() => reader.read('orders', 0, { ...base, value: Buffer.from('{}') }))

    expect(error.kind).toBe('filter-failed')
    expect(error.message).toContain('the filter threw: cannot read properties of null')
    expect(error.message).toContain('the filter must be fixed')
  })
})

describe('the schema (Standard Schema)', () => {
  const Order = z.object({ orderId: z.number(), quantity: z._default(z.number(), 1) })

  it("gives the processor the schema's output", () => {
    const reader = createMessageReader({ schema: Order })

    expect(readNow(reader, { value: Buffer.from('{"orderId":7}') }).value).toEqual({
      orderId: 7,
      quantity: 1,
    })
  })

  it('rejects a value that fails it with reason schema and the validator messages, paths included', () => {
    const reader = createMessageReader({ schema: Order })

    const error = decodeError(() =>
      reader.read('orders', 2, { ...base, value: Buffer.from('{"orderId":"7"}') }),
    )

    expect(error.kind).toBe('schema')
    expect(error.reason).toBe('the value does not match the schema: orderId: Invalid input')
    expect(error.message).toContain('orders/2@42')
  })

  it('never gives it a tombstone', () => {
    let calls = 0
    const counting: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          calls++
          return { value }
        },
      },
    }

    expect(readNow(createMessageReader({ schema: counting }), { value: null }).value).toBeNull()
    expect(calls).toBe(0)
  })

  it('waits for a schema that validates asynchronously', async () => {
    const later: StandardSchemaV1<unknown, { ok: true }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) =>
          value === 1
            ? { value: { ok: true } }
            : { issues: [{ message: 'not one', path: [{ key: 'root' }] }] },
      },
    }
    const reader = createMessageReader({ schema: later })

    const good = reader.read('orders', 0, { ...base, value: Buffer.from('1') })
    const bad = reader.read('orders', 0, { ...base, value: Buffer.from('2') })

    expect(good).toBeInstanceOf(Promise)
    await expect(good as Promise<Readout>).resolves.toMatchObject({ value: { ok: true } })
    await expect(bad as Promise<Readout>).rejects.toMatchObject({
      kind: 'schema',
      reason: expect.stringContaining('root: not one'),
    })
  })

  it('the filter runs before the schema: a message it leaves out is never validated', () => {
    const reader = createMessageReader({ schema: Order, filter: (message) => message.value !== 'skip' })

    expect(reader.read('orders', 0, { ...base, value: Buffer.from('"skip"') })).toBe(FILTERED)
  })
})
