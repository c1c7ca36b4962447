import { describe, expect, it } from 'vitest'
import { messageHeadersOf, NO_HEADERS } from '../../../src/processing/message-headers.ts'

const header = (key: string, value: string | null) =>
  [Buffer.from(key), value === null ? null : Buffer.from(value)] as const

describe('message headers', () => {
  const headers = messageHeadersOf([
    header('hop', 'a'),
    header('trace', 't1'),
    header('hop', 'b'),
    header('__proto__', 'kept'),
    header('empty', null),
  ])

  it('keeps every header in order, a repeated key each time', () => {
    expect(headers.size).toBe(5)
    expect(headers.entries()).toEqual([
      ['hop', 'a'],
      ['trace', 't1'],
      ['hop', 'b'],
      ['__proto__', 'kept'],
      ['empty', ''],
    ])
    expect([...headers].map(([key]) => key)).toEqual(['hop', 'trace', 'hop', '__proto__', 'empty'])
  })

  it('get gives the last value of a key, getAll every one', () => {
    expect(headers.get('hop')).toBe('b')
    expect(headers.getAll('hop')).toEqual(['a', 'b'])
    expect(headers.get('missing')).toBeUndefined()
    expect(headers.getAll('missing')).toEqual([])
    expect(headers.has('trace')).toBe(true)
    expect(headers.has('constructor')).toBe(false)
  })

  it('a header named __proto__ is an ordinary header', () => {
    expect(headers.get('__proto__')).toBe('kept')
    expect(headers.has('__proto__')).toBe(true)
  })

  it('serializes as an object, repeated keys as arrays, __proto__ included', () => {
    expect(JSON.parse(JSON.stringify(headers))).toEqual(
      JSON.parse('{"hop":["a","b"],"trace":"t1","__proto__":"kept","empty":""}'),
    )
    expect(Object.hasOwn(headers.toJSON(), '__proto__')).toBe(true)
  })

  it('a message without headers shares one empty set', () => {
    expect(messageHeadersOf([])).toBe(NO_HEADERS)
    expect(NO_HEADERS.size).toBe(0)
    expect(NO_HEADERS.get('x')).toBeUndefined()
  })
})
