import { describe, expect, it } from 'vitest'
import { type DeadLetter, type DeadLetterSink, deadLetterOf } from '../../../src/dead-letters/dead-letter.ts'
import { DeadLetterTooLargeError, DeadLetterWriteError } from '../../../src/dead-letters/errors.ts'
import { RoutedDeadLetterSink } from '../../../src/dead-letters/routed-dead-letter-sink.ts'
import { InMemoryDeadLetterSink, record } from '../../support/fakes.ts'

const letter = (size: number): DeadLetter =>
  deadLetterOf(
    'group_orders',
    'orders',
    0,
    { ...record(7, null), value: Buffer.alloc(size, 0x61) },
    { reason: 'not-json', error: new Error('not JSON'), attempts: 0 },
    new Date(),
  )

/** Accepts letters up to `limit` value bytes, like a queue with a maximum message size. */
class LimitedSink extends InMemoryDeadLetterSink implements DeadLetterSink {
  readonly limit: number
  constructor(limit: number) {
    super()
    this.limit = limit
  }
  override async send(candidate: DeadLetter): Promise<void> {
    const size = candidate.value?.length ?? 0
    if (size > this.limit) throw new DeadLetterTooLargeError('small queue', candidate, size, this.limit)
    await super.send(candidate)
  }
}

describe('RoutedDeadLetterSink', () => {
  it('sends each letter to the first destination that takes its size', async () => {
    const queue = new LimitedSink(100)
    const topic = new InMemoryDeadLetterSink()
    const sink = new RoutedDeadLetterSink([queue, topic])

    await sink.send(letter(10))
    await sink.send(letter(1000))

    expect(queue.letters.map((sent) => sent.value?.length)).toEqual([10])
    expect(topic.letters.map((sent) => sent.value?.length)).toEqual([1000])
    expect(sink.destination).toBe('memory (too large for it: memory)')
  })

  it('does not route around a destination that is down', async () => {
    const queue = new InMemoryDeadLetterSink()
    queue.fail = new DeadLetterWriteError('queue', letter(1), 'connection refused')
    const topic = new InMemoryDeadLetterSink()
    const sink = new RoutedDeadLetterSink([queue, topic])

    await expect(sink.send(letter(1))).rejects.toBeInstanceOf(DeadLetterWriteError)
    expect(topic.letters).toHaveLength(0)
  })

  it('reports too large when no destination takes the letter', async () => {
    const sink = new RoutedDeadLetterSink([new LimitedSink(10), new LimitedSink(20)])

    await expect(sink.send(letter(30))).rejects.toBeInstanceOf(DeadLetterTooLargeError)
  })
})
