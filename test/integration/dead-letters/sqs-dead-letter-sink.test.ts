/** Dead letters to a real SQS API (moto's server on loopback), read back from the queue. */
import { afterEach, describe, expect, it } from 'vitest'
import {
  type DeadLetter,
  deadLetterOf,
  decodeBytes,
  type EncodedBytes,
} from '../../../src/dead-letters/dead-letter.ts'
import { DeadLetterTooLargeError, DeadLetterWriteError } from '../../../src/dead-letters/errors.ts'
import { SqsDeadLetterSink } from '../../../src/dead-letters/sqs-dead-letter-sink.ts'
import { drainQueue, sqsClient } from '../../support/moto-server.ts'
import { freshQueue, services } from '../../support/services.ts'

const clients: Array<{ destroy(): void }> = []
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy()
})

function sinkFor(queueUrl: string) {
  const client = sqsClient(services().sqsEndpoint)
  clients.push(client)
  return new SqsDeadLetterSink(client, queueUrl)
}

function letter(value: Buffer | null, offset = 5): DeadLetter {
  return deadLetterOf(
    'group_orders',
    'orders',
    1,
    {
      offset,
      timestamp: 1_700_000_000_000,
      key: Buffer.from('order-5'),
      value,
      headers: [[Buffer.from('trace'), Buffer.from([0xde, 0xad])]],
    },
    { reason: 'processing-failed', error: new Error('downstream said no'), attempts: 3 },
    new Date('2025-06-01T00:00:00.000Z'),
  )
}

describe('SqsDeadLetterSink', () => {
  it('writes the letter as a JSON document whose bytes decode back to the original', async () => {
    // Prepare
    const queueUrl = await freshQueue()
    const sink = sinkFor(queueUrl)
    const value = Buffer.from([0x7b, 0xff, 0x00, 0x7d])

    // Act
    await sink.send(letter(value))
    const [message, ...rest] = await drainQueue(services().sqsEndpoint, queueUrl)

    // Assess
    expect(rest).toHaveLength(0)
    const body = message!.body as Record<string, unknown>
    expect(body).toMatchObject({
      consumer_id: 'group_orders',
      topic: 'orders',
      partition: 1,
      offset: 5,
      timestamp: '2023-11-14T22:13:20.000Z',
      key: { encoding: 'utf8', data: 'order-5' },
      reason: 'processing-failed',
      error: { name: 'Error', message: 'downstream said no' },
      attempts: 3,
      dead_lettered_at: '2025-06-01T00:00:00.000Z',
    })
    expect(decodeBytes(body.value as EncodedBytes)).toEqual(value)
    expect(message!.attributes).toEqual({
      topic: 'orders',
      partition: '1',
      offset: '5',
      reason: 'processing-failed',
    })
  })

  it('takes a 1 MB JSON value whole: SQS messages go up to 1 MiB', async () => {
    const queueUrl = await freshQueue(1_048_576)
    const sink = sinkFor(queueUrl)
    const value = Buffer.from(JSON.stringify({ blob: 'x'.repeat(1_000_000 - 12) }))

    await sink.send(letter(value))
    const [message] = await drainQueue(services().sqsEndpoint, queueUrl)

    expect(decodeBytes((message!.body as { value: EncodedBytes }).value)).toEqual(value)
  })

  it('refuses, without a call, a letter over 1 MiB (1 MB of binary is 1.33 MB in base64)', async () => {
    const queueUrl = await freshQueue()
    const sink = sinkFor(queueUrl)

    const error = await sink.send(letter(Buffer.alloc(1_000_000, 0xff))).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DeadLetterTooLargeError)
    expect((error as Error).message).toContain('DEAD_LETTER_TOPIC')
    expect(await drainQueue(services().sqsEndpoint, queueUrl)).toHaveLength(0)
  })

  it("turns the queue's own size limit into too large", async () => {
    const queueUrl = await freshQueue(1024)
    const sink = sinkFor(queueUrl)

    await expect(sink.send(letter(Buffer.from(JSON.stringify('y'.repeat(2000)))))).rejects.toBeInstanceOf(
      DeadLetterTooLargeError,
    )
  })

  it('reports a queue that does not exist as a write failure naming the queue', async () => {
    const queueUrl = `${services().sqsEndpoint}/123456789012/no-such-queue`
    const sink = sinkFor(queueUrl)

    const error = await sink.send(letter(Buffer.from('{}'))).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(DeadLetterWriteError)
    expect((error as Error).message).toContain(queueUrl)
    expect((error as DeadLetterWriteError).retriable).toBe(true)
  })
})
