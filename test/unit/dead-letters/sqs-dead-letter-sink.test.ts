import type { SQSClient } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { deadLetterOf } from '../../../src/dead-letters/dead-letter.ts'
import { DeadLetterWriteError } from '../../../src/dead-letters/errors.ts'
import { SqsDeadLetterSink } from '../../../src/dead-letters/sqs-dead-letter-sink.ts'
import { record } from '../../support/fakes.ts'

/** An SQS that accepts the request and never answers; a call ends only by its abort signal. */
function silentSqs() {
  const signals: Array<AbortSignal | undefined> = []
  const client = {
    send(_command: unknown, options?: { abortSignal?: AbortSignal }) {
      signals.push(options?.abortSignal)
      return new Promise((_resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
        )
      })
    },
  }
  return { client: client as unknown as SQSClient, signals }
}

describe('SqsDeadLetterSink', () => {
  it('gives up a dead letter SQS never answers, with an error naming the message, the wait and the fix', async () => {
    const { client, signals } = silentSqs()
    const sink = new SqsDeadLetterSink(client, 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq', 30)
    const letter = deadLetterOf(
      'group_orders',
      'orders',
      3,
      record(12, 'x'),
      { reason: 'not-json', error: new Error('not JSON'), attempts: 0 },
      new Date(0),
    )

    const error = await sink.send(letter).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(DeadLetterWriteError)
    expect((error as Error).message).toContain('Could not dead-letter message orders/3@12')
    expect((error as Error).message).toContain('no answer within 30 ms')
    expect((error as Error).message).toContain('Check that SQS is reachable from the function')
    expect((error as DeadLetterWriteError).retriable).toBe(true)
    expect(signals).toHaveLength(1)
    expect(signals[0]?.aborted).toBe(true)
  })
})
