import { describe, expect, it } from 'vitest'
import { invocationContext, kafkaMessage, kafkaMessages } from '../../../src/testing/index.ts'

describe('lambda-kafka-consumer/testing', () => {
  it('builds a message from a value, with the bytes the consumer would have decoded it from', () => {
    // Act
    const message = kafkaMessage(
      { orderId: 7 },
      { key: 'order-7', offset: 41, partition: 2, headers: { trace: 'abc' }, timestamp: 1_000 },
    )

    // Assess
    expect(message).toMatchObject({
      topic: 'test-topic',
      partition: 2,
      offset: 41,
      timestamp: 1_000,
      key: 'order-7',
      value: { orderId: 7 },
    })
    expect(message.headers.get('trace')).toBe('abc')
    expect(message.raw.value?.toString('utf8')).toBe('{"orderId":7}')
    expect(message.raw.key?.toString('utf8')).toBe('order-7')
    expect(message.raw.headers.map(([k, v]) => [k?.toString(), v?.toString()])).toEqual([['trace', 'abc']])
  })

  it('keeps a repeated header key when the headers are given as pairs', () => {
    const message = kafkaMessage('x', {
      headers: [
        ['hop', 'a'],
        ['hop', 'b'],
      ],
    })
    expect(message.headers.getAll('hop')).toEqual(['a', 'b'])
    expect(message.headers.get('hop')).toBe('b')
  })

  it('makes a tombstone from null, and keeps raw bytes given as they are', () => {
    expect(kafkaMessage(null).raw.value).toBeNull()
    expect(kafkaMessage(null).key).toBeNull()
    const raw = Buffer.from([0xff, 0x00])
    expect(kafkaMessage('x', { rawValue: raw }).raw.value).toBe(raw)
  })

  it('numbers a batch from the first offset and keys it', () => {
    const batch = kafkaMessages(['a', 'b', 'c'], { offset: 10, keyOf: (value) => `k-${value}` })
    expect(batch.map((message) => [message.offset, message.key, message.value])).toEqual([
      [10, 'k-a', 'a'],
      [11, 'k-b', 'b'],
      [12, 'k-c', 'c'],
    ])
  })

  it('gives a context whose remaining time counts down from what was asked', () => {
    const context = invocationContext({ remainingMs: 5_000, awsRequestId: 'req-1' })
    expect(context.awsRequestId).toBe('req-1')
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(4_000)
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(5_000)
  })
})
