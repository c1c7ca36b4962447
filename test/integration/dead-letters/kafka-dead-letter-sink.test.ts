/** Dead letters to a real Kafka topic, read back from the outside with a plain consumer. */
import { afterEach, describe, expect, it } from 'vitest'
import { type DeadLetter, deadLetterOf } from '../../../src/dead-letters/dead-letter.ts'
import { DeadLetterTooLargeError, DeadLetterWriteError } from '../../../src/dead-letters/errors.ts'
import { KafkaDeadLetterSink } from '../../../src/dead-letters/kafka-dead-letter-sink.ts'
import { readTopic } from '../../support/read-topic.ts'
import { freshTopic, services } from '../../support/services.ts'

const sinks: KafkaDeadLetterSink[] = []
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((sink) => sink.close()))
})

function sinkFor(topic: string) {
  const sink = new KafkaDeadLetterSink({
    bootstrapServers: [services().bootstrapServers],
    clientId: 'test',
    topic,
    requestTimeoutMs: 5000,
  })
  sinks.push(sink)
  return sink
}

function letter(value: Buffer | null): DeadLetter {
  return deadLetterOf(
    'group_orders',
    'orders',
    2,
    {
      offset: 17,
      timestamp: 1_700_000_000_000,
      key: Buffer.from('order-17'),
      value,
      headers: [
        [Buffer.from('trace'), Buffer.from('t-1')],
        [Buffer.from('trace'), Buffer.from('t-2')],
      ],
    },
    { reason: 'not-utf8', error: new Error('the value is not valid UTF-8'), attempts: 0 },
    new Date('2025-06-01T00:00:00.000Z'),
  )
}

const headerMap = (headers: Array<[Buffer, Buffer]>) =>
  headers.map(([key, value]) => [key.toString(), value.toString()])

describe('KafkaDeadLetterSink', () => {
  it('writes the original key, value and headers byte for byte, and where and why in dlq.* headers', async () => {
    // Prepare
    const dlq = await freshTopic(1)
    const value = Buffer.from([0x7b, 0xff, 0xfe, 0x7d])

    // Act
    await sinkFor(dlq).send(letter(value))
    const [record, ...rest] = await readTopic(services().bootstrapServers, dlq)

    // Assess
    expect(rest).toHaveLength(0)
    expect(record!.key).toEqual(Buffer.from('order-17'))
    expect(record!.value).toEqual(value)
    expect(headerMap(record!.headers)).toEqual([
      ['trace', 't-1'],
      ['trace', 't-2'],
      ['dlq.consumer_id', 'group_orders'],
      ['dlq.topic', 'orders'],
      ['dlq.partition', '2'],
      ['dlq.offset', '17'],
      ['dlq.timestamp', '2023-11-14T22:13:20.000Z'],
      ['dlq.reason', 'not-utf8'],
      ['dlq.error', 'Error: the value is not valid UTF-8'],
      ['dlq.attempts', '0'],
      ['dlq.dead_lettered_at', '2025-06-01T00:00:00.000Z'],
    ])
  })

  it('keeps a header without a value as one without a value (null), not an empty one', async () => {
    const dlq = await freshTopic(1)
    const withNullHeader: DeadLetter = {
      ...letter(Buffer.from('{}')),
      headers: [
        [Buffer.from('no-value'), null],
        [Buffer.from('empty'), Buffer.alloc(0)],
      ],
    }

    await sinkFor(dlq).send(withNullHeader)
    const [record] = await readTopic(services().bootstrapServers, dlq)

    // The reading client reports a header without a value as undefined; an empty one as a Buffer.
    const originals = record!.headers.slice(0, 2).map(([key, value]) => [key.toString(), value ?? null])
    expect(originals).toEqual([
      ['no-value', null],
      ['empty', Buffer.alloc(0)],
    ])
  })

  it('takes a 1 MB binary value whole when the topic allows it', async () => {
    const dlq = await freshTopic(1, { 'max.message.bytes': '2097152' })
    const value = Buffer.alloc(1_000_000, 0xff)

    await sinkFor(dlq).send(letter(value))
    const [record] = await readTopic(services().bootstrapServers, dlq)

    expect(record!.value).toEqual(value)
  })

  it('reports a letter larger than the topic accepts as too large', async () => {
    const dlq = await freshTopic(1, { 'max.message.bytes': '10000' })

    await expect(sinkFor(dlq).send(letter(Buffer.alloc(50_000, 0x61)))).rejects.toBeInstanceOf(
      DeadLetterTooLargeError,
    )
  })

  it('reports a topic that does not exist as a write failure that says to create it', async () => {
    const error = await sinkFor('no-such-dlq')
      .send(letter(Buffer.from('x')))
      .catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DeadLetterWriteError)
    expect((error as Error).message).toContain('Create the topic no-such-dlq')
  })
})
