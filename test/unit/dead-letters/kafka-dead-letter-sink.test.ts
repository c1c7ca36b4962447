import { describe, expect, it } from 'vitest'
import { deadLetterOf } from '../../../src/dead-letters/dead-letter.ts'
import { DEAD_LETTER_HEADERS, recordHeadersOf } from '../../../src/dead-letters/kafka-dead-letter-sink.ts'
import { record } from '../../support/fakes.ts'

describe('the Kafka dead letter headers', () => {
  it('keep a null header value null, an empty one empty, and repeated headers in order', () => {
    const letter = deadLetterOf(
      'group_orders',
      'orders',
      1,
      {
        ...record(5, '{}'),
        headers: [
          [Buffer.from('no-value'), null],
          [Buffer.from('empty'), Buffer.alloc(0)],
          [Buffer.from('trace'), Buffer.from('t-1')],
          [Buffer.from('trace'), Buffer.from('t-2')],
        ],
      },
      { reason: 'not-json', error: new Error('not JSON'), attempts: 0 },
      new Date('2025-06-01T00:00:00.000Z'),
    )

    const headers = [...recordHeadersOf(letter)].map(([key, value]) => [key.toString(), value])

    expect(headers.slice(0, 4)).toEqual([
      ['no-value', null],
      ['empty', Buffer.alloc(0)],
      ['trace', Buffer.from('t-1')],
      ['trace', Buffer.from('t-2')],
    ])
    expect(headers.slice(4).map(([key]) => key)).toEqual([...DEAD_LETTER_HEADERS])
  })
})
