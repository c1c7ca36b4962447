import { describe, expect, it } from 'vitest'
import { deliverRecords } from '../../../src/cycle/deliver-records.ts'
import { ProcessingTimeoutError } from '../../../src/cycle/errors.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { deliveryContext } from '../../support/delivery-context.ts'
import { RecordingLogger, RecordingMetrics, record } from '../../support/fakes.ts'

const context = deliveryContext

const json = (offset: number) => record(offset, JSON.stringify({ offset }))

describe('deliverRecords with a batch processor', () => {
  it('hands each run of decodable records to the processor as one batch, dead-lettering the undecodable between them', async () => {
    const batches: number[][] = []
    const {
      context: ctx,
      done,
      deadLetters,
    } = context({
      processBatch: (messages) => void batches.push(messages.map((message) => message.offset)),
    })

    const result = await deliverRecords([json(0), json(1), record(2, 'oops'), json(3), json(4)], ctx)

    expect(result).toEqual({ complete: true })
    expect(batches).toEqual([
      [0, 1],
      [3, 4],
    ])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'processed'],
      [2, 'dead-lettered'],
      [3, 'processed'],
      [4, 'processed'],
    ])
    expect(deadLetters.letters.map((letter) => [letter.offset, letter.reason])).toEqual([[2, 'not-json']])
  })

  it('takes a batch that keeps failing apart, and dead-letters only the message that fails alone', async () => {
    const calls: number[][] = []
    const {
      context: ctx,
      done,
      deadLetters,
    } = context({
      processBatch: (messages: ReadonlyArray<KafkaMessage>) => {
        calls.push(messages.map((message) => message.offset))
        if (messages.some((message) => message.offset === 1)) throw new Error('order 1 is invalid')
      },
    })

    const result = await deliverRecords([json(0), json(1), json(2)], ctx)

    expect(result.complete).toBe(true)
    expect(calls).toEqual([[0, 1, 2], [0, 1, 2], [0], [1], [1], [2]])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'dead-lettered'],
      [2, 'processed'],
    ])
    expect(deadLetters.letters[0]).toMatchObject({ offset: 1, attempts: 2, reason: 'processing-failed' })
  })

  it('without a destination, stops before the first message that fails alone', async () => {
    const { context: ctx, done } = context(
      {
        processBatch: (messages) => {
          if (messages.some((message) => message.offset === 1)) throw new Error('order 1 is invalid')
        },
      },
      { deadLetters: undefined },
    )

    const result = await deliverRecords([json(0), json(1), json(2)], ctx)

    expect(result).toMatchObject({ complete: false, failure: { offset: 1, reason: 'order 1 is invalid' } })
    expect(done).toEqual([[0, 'processed']])
  })
})

describe('deliverRecords with a message processor', () => {
  it('waits longer before each retry: the delay doubles', async () => {
    const waits: number[] = []
    const { context: ctx } = context(
      {
        process: () => {
          throw new Error('down')
        },
      },
      { policy: { attempts: 4, retryDelayMs: 100 }, sleep: async (ms) => void waits.push(ms) },
    )

    await deliverRecords([json(0)], ctx)

    expect(waits).toEqual([100, 200, 400])
  })

  it('succeeds on a retry without dead-lettering anything', async () => {
    let calls = 0
    const {
      context: ctx,
      done,
      deadLetters,
    } = context({
      process: () => {
        if (++calls === 1) throw new Error('blip')
      },
    })

    const result = await deliverRecords([json(0)], ctx)

    expect(result.complete).toBe(true)
    expect(done).toEqual([[0, 'processed']])
    expect(deadLetters.letters).toHaveLength(0)
  })

  it('stops before the next message when asked to', async () => {
    let stop = false
    const { context: ctx, done } = context(
      {
        process: () => {
          stop = true
        },
      },
      { shouldStop: () => stop },
    )

    const result = await deliverRecords([json(0), json(1)], ctx)

    expect(result).toEqual({ complete: false })
    expect(done).toEqual([[0, 'processed']])
  })
})

/** A call that never settles: a processor hanging on its downstream. */
const hang = () => new Promise<void>(() => {})

describe('deliverRecords with PROCESSING_TIMEOUT_MS', () => {
  it('counts a call still running at the timeout as a failed attempt: retried, then dead-lettered', async () => {
    // Prepare
    const calls: number[] = []
    const metrics = new RecordingMetrics()
    const {
      context: ctx,
      done,
      deadLetters,
    } = context(
      {
        process: (message) => {
          calls.push(message.offset)
          return message.offset === 1 ? hang() : Promise.resolve()
        },
      },
      { policy: { attempts: 2, retryDelayMs: 0, timeoutMs: 20 }, metrics },
    )

    // Act
    const result = await deliverRecords([json(0), json(1), json(2)], ctx)

    // Assess
    expect(result).toEqual({ complete: true })
    expect(calls).toEqual([0, 1, 1, 2])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'dead-lettered'],
      [2, 'processed'],
    ])
    expect(deadLetters.letters[0]).toMatchObject({
      offset: 1,
      reason: 'processing-failed',
      attempts: 2,
      error: { name: 'ProcessingTimeoutError' },
    })
    expect(deadLetters.letters[0]!.error.message).toContain('within PROCESSING_TIMEOUT_MS (20 ms)')
    expect(metrics.counts.get('ProcessingTimeouts')).toBe(2)
  })

  it('succeeds on the retry after a timeout without dead-lettering', async () => {
    let calls = 0
    const {
      context: ctx,
      done,
      deadLetters,
    } = context(
      { process: () => (++calls === 1 ? hang() : undefined) },
      { policy: { attempts: 3, retryDelayMs: 0, timeoutMs: 20 } },
    )

    const result = await deliverRecords([json(0)], ctx)

    expect(result.complete).toBe(true)
    expect(done).toEqual([[0, 'processed']])
    expect(deadLetters.letters).toHaveLength(0)
  })

  it('times out a batch call too, then takes the batch apart', async () => {
    const calls: number[][] = []
    const {
      context: ctx,
      done,
      deadLetters,
    } = context(
      {
        processBatch: (messages) => {
          calls.push(messages.map((message) => message.offset))
          return messages.length > 1 ? hang() : Promise.resolve()
        },
      },
      { policy: { attempts: 1, retryDelayMs: 0, timeoutMs: 20 } },
    )

    const result = await deliverRecords([json(0), json(1)], ctx)

    expect(result.complete).toBe(true)
    expect(calls).toEqual([[0, 1], [0], [1]])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'processed'],
    ])
    expect(deadLetters.letters).toHaveLength(0)
  })

  it('leaves a message whose call is still running at the deadline for the next run, not as a failure', async () => {
    const logger = new RecordingLogger()
    const {
      context: ctx,
      done,
      deadLetters,
    } = context(
      { process: (message) => (message.offset === 1 ? hang() : undefined) },
      {
        policy: { attempts: 3, retryDelayMs: 0, timeoutMs: 60_000 },
        clock: Date.now,
        deadline: Date.now() + 50,
        logger,
      },
    )

    const result = await deliverRecords([json(0), json(1), json(2)], ctx)

    expect(result).toEqual({ complete: false, outOfTime: true })
    expect(done).toEqual([[0, 'processed']])
    expect(deadLetters.letters).toHaveLength(0)
    expect(logger.at('warn')[0]).toMatchObject({
      message: expect.stringContaining('still running at the deadline'),
      attributes: { partition: 0, offset: 1 },
    })
  })

  it('says why when every attempt timed out and the last one meets the deadline', async () => {
    const logger = new RecordingLogger()
    const { context: ctx, deadLetters } = context(
      { process: hang },
      {
        policy: { attempts: 3, retryDelayMs: 0, timeoutMs: 30 },
        clock: Date.now,
        deadline: Date.now() + 80,
        logger,
      },
    )

    const result = await deliverRecords([json(0)], ctx)

    expect(result).toEqual({ complete: false, outOfTime: true })
    expect(deadLetters.letters).toHaveLength(0)
    // The last attempt meets the deadline, or (on a slow machine) its retry would not fit before it.
    const warning = logger.at('warn').find((entry) => entry.attributes?.fix !== undefined)
    expect(warning?.attributes?.fix).toContain(
      'PROCESSING_ATTEMPTS x PROCESSING_TIMEOUT_MS must fit in one run',
    )
    expect(String(warning?.attributes?.error)).toContain('PROCESSING_TIMEOUT_MS (30 ms)')
  })

  it('never times a call that returns no promise (the fast path)', async () => {
    const { context: ctx, done } = context(
      { process: () => {} },
      { policy: { attempts: 1, retryDelayMs: 0, timeoutMs: 10 } },
    )

    const result = await deliverRecords([json(0), json(1)], ctx)

    expect(result).toEqual({ complete: true })
    expect(done).toHaveLength(2)
    expect(new ProcessingTimeoutError('t', 0, 5, 10).retriable).toBe(true)
  })
})

describe('deliverRecords: one watchdog per batch for PROCESSING_TIMEOUT_MS', () => {
  const waitMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

  it('times out a call that starts after the watchdog was set, only once it has run for the whole timeout', async () => {
    // Prepare: three calls of 60 ms each, the watchdog set at the first one's start; the fourth hangs.
    const started = new Map<number, number[]>()
    const {
      context: ctx,
      done,
      deadLetters,
    } = context(
      {
        process: (message) => {
          started.set(message.offset, [...(started.get(message.offset) ?? []), performance.now()])
          return message.offset === 3 ? hang() : waitMs(60)
        },
      },
      { policy: { attempts: 2, retryDelayMs: 0, timeoutMs: 200 } },
    )

    // Act
    const result = await deliverRecords([json(0), json(1), json(2), json(3), json(4)], ctx)

    // Assess
    expect(result).toEqual({ complete: true })
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'processed'],
      [2, 'processed'],
      [3, 'dead-lettered'],
      [4, 'processed'],
    ])
    expect(deadLetters.letters[0]).toMatchObject({ offset: 3, error: { name: 'ProcessingTimeoutError' } })
    // The watchdog fired 20 ms into the fourth call: it was set again, not fired at that call.
    expect([0, 1, 2, 3, 4].map((offset) => started.get(offset)?.length)).toEqual([1, 1, 1, 2, 1])
    const [first, retry] = started.get(3)!
    expect(retry! - first!).toBeGreaterThanOrEqual(200)
  })

  it('ignores an abandoned call that settles later: its message is done with once', async () => {
    let calls = 0
    let late: Promise<void> | undefined
    const { context: ctx, done } = context(
      {
        process: (message) => {
          if (message.offset !== 0 || ++calls > 1) return Promise.resolve()
          late = waitMs(40)
          return late
        },
      },
      { policy: { attempts: 2, retryDelayMs: 0, timeoutMs: 15 } },
    )

    const result = await deliverRecords([json(0), json(1)], ctx)
    await late
    await waitMs(5)

    expect(result).toEqual({ complete: true })
    expect(calls).toBe(2)
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'processed'],
    ])
  })

  it('handles the late rejection of an abandoned call (no unhandled rejection)', async () => {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => void rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      let calls = 0
      const { context: ctx, done } = context(
        {
          process: () =>
            ++calls === 1
              ? waitMs(30).then(() => {
                  throw new Error('too late')
                })
              : undefined,
        },
        { policy: { attempts: 2, retryDelayMs: 0, timeoutMs: 10 } },
      )

      const result = await deliverRecords([json(0)], ctx)
      await waitMs(40)

      expect(result).toEqual({ complete: true })
      expect(done).toEqual([[0, 'processed']])
      expect(rejections).toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })

  it('lets the event loop turn during a long batch of synchronous calls', async () => {
    // Prepare: a checkpoint's answer, a fetch's response: anything waiting for the loop to turn.
    let turnedAt: number | undefined
    let processed = 0
    const { context: ctx } = context({
      process: () => {
        processed++
      },
    })
    setImmediate(() => {
      turnedAt = processed
    })
    const records = Array.from({ length: 5000 }, (_, offset) => json(offset))

    // Act
    const result = await deliverRecords(records, ctx)

    // Assess
    expect(result).toEqual({ complete: true })
    expect(turnedAt).toBeGreaterThan(0)
    expect(turnedAt).toBeLessThan(1000)
  })
})

describe('deliverRecords with a processor that throws something other than an Error', () => {
  it('retries and dead-letters a message whose processor throws an object without a prototype', async () => {
    const thrown = Object.assign(Object.create(null) as object, { code: 'E_DOWNSTREAM' })
    let calls = 0
    const {
      context: ctx,
      done,
      deadLetters,
    } = context({
      process: () => {
        calls++
        throw thrown
      },
    })

    const result = await deliverRecords([json(0), json(1)], ctx)

    expect(result).toEqual({ complete: true })
    expect(calls).toBe(4)
    expect(done).toEqual([
      [0, 'dead-lettered'],
      [1, 'dead-lettered'],
    ])
    expect(deadLetters.letters.map((letter) => [letter.offset, letter.reason, letter.error.message])).toEqual(
      [
        [0, 'processing-failed', '{"code":"E_DOWNSTREAM"}'],
        [1, 'processing-failed', '{"code":"E_DOWNSTREAM"}'],
      ],
    )
  })
})
