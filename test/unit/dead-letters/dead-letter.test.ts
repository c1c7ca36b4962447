import { describe, expect, it } from 'vitest'
import {
  type DeadLetter,
  deadLetterOf,
  decodeBytes,
  documentOf,
  encodeBytes,
  serializeDocument,
} from '../../../src/dead-letters/dead-letter.ts'
import { record } from '../../support/fakes.ts'

const letter = (value: Buffer | null, key: Buffer | null = Buffer.from('k1')): DeadLetter =>
  deadLetterOf(
    'group_orders',
    'orders',
    2,
    {
      ...record(42, null),
      key,
      value,
      headers: [
        [Buffer.from('trace'), Buffer.from('abc')],
        [Buffer.from('bin'), Buffer.from([0xff, 0x00])],
      ],
    },
    { reason: 'processing-failed', error: new TypeError('bad order'), attempts: 3 },
    new Date('2025-01-02T03:04:05.000Z'),
  )

describe('dead letters', () => {
  it('describe a thrown value that is not an Error, even one without a prototype', () => {
    const thrown = Object.assign(Object.create(null) as object, { code: 'E_DOWNSTREAM' })

    const made = deadLetterOf(
      'group_orders',
      'orders',
      0,
      record(7, '{}'),
      { reason: 'processing-failed', error: thrown, attempts: 2 },
      new Date(0),
    )

    expect(made.error).toEqual({ name: 'Error', message: '{"code":"E_DOWNSTREAM"}' })
    expect(documentOf(made).error.message).toBe('{"code":"E_DOWNSTREAM"}')
  })

  it('carry where the message came from, why, how often it was tried and when', () => {
    const document = documentOf(letter(Buffer.from('{"a":1}')))

    expect(document).toEqual({
      version: 1,
      consumer_id: 'group_orders',
      topic: 'orders',
      partition: 2,
      offset: 42,
      timestamp: new Date(1_700_000_000_042).toISOString(),
      timestamp_ms: 1_700_000_000_042,
      key: { encoding: 'utf8', data: 'k1' },
      value: { encoding: 'utf8', data: '{"a":1}' },
      headers: [
        { key: { encoding: 'utf8', data: 'trace' }, value: { encoding: 'utf8', data: 'abc' } },
        { key: { encoding: 'utf8', data: 'bin' }, value: { encoding: 'base64', data: '/wA=' } },
      ],
      reason: 'processing-failed',
      error: { name: 'TypeError', message: 'bad order' },
      attempts: 3,
      dead_lettered_at: '2025-01-02T03:04:05.000Z',
    })
  })

  it('keep bytes that are not UTF-8 as base64, and give back exactly the original bytes', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d])

    const encoded = encodeBytes(bytes)

    expect(encoded?.encoding).toBe('base64')
    expect(decodeBytes(encoded)).toEqual(bytes)
    expect(decodeBytes(encodeBytes(Buffer.from('café')))).toEqual(Buffer.from('café'))
  })

  it('keep a tombstone and a missing key as null', () => {
    const document = documentOf(letter(null, null))

    expect(document.value).toBeNull()
    expect(document.key).toBeNull()
  })

  it('escape the characters SQS rejects (U+FFFE, U+FFFF), and still parse back to the same text', () => {
    const text = 'a\uffffb\ufffe'
    const body = serializeDocument(documentOf(letter(Buffer.from(text))))

    expect(body).not.toMatch(/[\ufffe\uffff]/)
    expect(JSON.parse(body).value.data).toBe(text)
  })
})
