import { describe, expect, it } from 'vitest'
import { decodeMessage } from '../../../src/processing/decode.ts'
import { MessageDecodeError } from '../../../src/processing/errors.ts'

const base = { offset: 42, timestamp: 1_700_000_000_000, key: Buffer.from('order-1'), headers: [] }

describe('decodeMessage', () => {
  it('parses the value as JSON and keeps the raw bytes', () => {
    const value = Buffer.from('{"orderId":1,"note":"caf\u00e9"}')
    const message = decodeMessage('orders', 3, {
      ...base,
      value,
      headers: [[Buffer.from('trace'), Buffer.from('abc')]],
    })

    expect(message).toMatchObject({
      topic: 'orders',
      partition: 3,
      offset: 42,
      key: 'order-1',
      value: { orderId: 1, note: 'caf\u00e9' },
      headers: { trace: 'abc' },
    })
    expect(message.raw.value).toBe(value)
  })

  it.each([
    ['not JSON', Buffer.from('hello'), 'not JSON'],
    ['empty', Buffer.alloc(0), 'empty'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not valid UTF-8'],
  ])('rejects a value that is %s with the position and the reason', (_name, value, reason) => {
    const decode = () => decodeMessage('orders', 1, { ...base, value })

    expect(decode).toThrow(MessageDecodeError)
    expect(decode).toThrow(reason)
    expect(decode).toThrow('orders/1@42')
  })

  it.each([
    ['{"card":x4111-1111-1111-1111}', 'unexpected token; the content is not shown'],
    ['card 4111-1111-1111-1111', 'unexpected token; the content is not shown'],
    ['{"card":"4111-1111-1111-1111",', 'Expected double-quoted property name in JSON at position 30'],
  ])('keeps the content out of the reason, which is logged at ERROR: %s', (text, reason) => {
    const error = (() => {
      try {
        decodeMessage('orders', 1, { ...base, value: Buffer.from(text) })
      } catch (thrown) {
        return thrown as MessageDecodeError
      }
      throw new Error('expected a MessageDecodeError')
    })()

    expect(error.reason).toContain(reason)
    expect(error.message).not.toContain('4111')
  })

  it('gives a tombstone a null value and a missing key a null key', () => {
    expect(decodeMessage('orders', 0, { ...base, key: null, value: null })).toMatchObject({
      key: null,
      value: null,
    })
  })
})
