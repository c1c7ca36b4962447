/**
 * Delivering one partition's fetched records, in offset order, each one either processed,
 * filtered out or dead-lettered before the next is touched:
 *
 *   read (decode, filter, schema) -> process (retried with backoff, timed) -> done
 *      |  |                                  | still failing after the last attempt
 *      |  +----------------------------------+-> dead letter (at once when it cannot be read) -> done
 *      |  filtered out -> done                             | no destination, or the write failed
 *      +-> a schema registry out of reach ------------------+-> the partition stops before this message
 *
 * Nothing is ever skipped without a record: a message is done only once the processor
 * returned or its dead letter is stored. Pure logic; the processor and the dead-letter
 * destination are reached through their interfaces.
 */
import type { DeadLetterSink } from '../dead-letters/dead-letter.ts'
import { deadLetterOf } from '../dead-letters/dead-letter.ts'
import { messageOf } from '../errors.ts'
import type { FetchedRecord, Logger, Metrics } from '../ports.ts'
import { MessageDecodeError } from '../processing/errors.ts'
import type { KafkaMessage, Processor } from '../processing/message.ts'
import {
  createMessageReader,
  FILTERED,
  type MessageReader,
  type Readout,
} from '../processing/message-reader.ts'
import { ProcessingTimeoutError } from './errors.ts'

export interface ProcessingPolicy {
  /** Processor calls per message before it is dead-lettered; 1 means no retry. */
  readonly attempts: number
  /** The wait before the second call; it doubles for each call after, up to `MAX_RETRY_DELAY_MS`. */
  readonly retryDelayMs: number
  /**
   * A call (one message or one batch) not settled after this long is a failed attempt
   * (PROCESSING_TIMEOUT_MS); default: no limit but the deadline. Calls that return no promise
   * are never timed: a synchronous call cannot be interrupted.
   */
  readonly timeoutMs?: number
}

export const DEFAULT_PROCESSING_POLICY: ProcessingPolicy = { attempts: 3, retryDelayMs: 200 }
const MAX_RETRY_DELAY_MS = 30_000

/** A message the partition stopped before: it could be neither processed nor dead-lettered. */
export interface PartitionFailure {
  readonly partition: number
  readonly offset: number
  readonly reason: string
  readonly error: unknown
}

export type Outcome = 'processed' | 'dead-lettered' | 'filtered'

/** Plain JSON values, text keys, no filter, no schema: the seed's decoding. */
const DEFAULT_READER = createMessageReader()

export interface DeliveryContext {
  readonly topic: string
  readonly consumerId: string
  readonly partition: number
  readonly processor: Processor
  /** Decoding, the filter and the schema; default: JSON values, text keys. */
  readonly reader?: MessageReader
  readonly deadLetters: DeadLetterSink | undefined
  readonly policy: ProcessingPolicy
  readonly logger: Logger
  readonly metrics: Metrics
  readonly clock: () => number
  readonly sleep: (ms: number) => Promise<void>
  /** No retry is waited for past this clock time: the message is left for the next run. */
  readonly deadline: number
  /** Asked before each message and each retry: true ends the delivery there. */
  readonly shouldStop: () => boolean
  /**
   * Told about each message once it is done with, in offset order. It may start a checkpoint;
   * when it returns a promise (a checkpoint it must wait for), the next message waits for it.
   */
  readonly onDone: (offset: number, outcome: Outcome) => Promise<void> | undefined | void
}

export interface DeliveryResult {
  /** Every record was done with. */
  readonly complete: boolean
  readonly failure?: PartitionFailure
  /** A retry would have ended past the deadline: the message is left for the next run, which should end now. */
  readonly outOfTime?: boolean
}

/** Delivers `records` (one partition, offset order) to the processor, one at a time or in batches. */
export function deliverRecords(
  records: readonly FetchedRecord[],
  context: DeliveryContext,
): Promise<DeliveryResult> {
  const { processor } = context
  const reader = context.reader ?? DEFAULT_READER
  // Registry formats: the schemas this batch names that are not cached yet, fetched first.
  const preparing = reader.prepare(records, context.deadline)
  if (processor.processBatch === undefined) {
    return new OneAtATime(records, reader, context, processor.process).run(preparing)
  }
  const batches = () => deliverInBatches(records, reader, context, processor.processBatch)
  return preparing === undefined ? batches() : preparing.then(batches)
}

/**
 * Messages between two turns of the event loop. A batch is thousands of messages, and a
 * processor that returns no promise (or one already settled) never lets the loop turn while it
 * goes through them: a checkpoint started meanwhile would not even be sent, nor its answer read,
 * nor the next fetch's response taken off the socket, until the batch ends, and the next
 * checkpoint would then wait for the previous one (profile in bench/README.md). One turn every
 * few hundred messages costs a few nanoseconds per message.
 */
const MESSAGES_PER_TURN = 512

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The watchdog's ticks per PROCESSING_TIMEOUT_MS: a call is abandoned at most an eighth of it late. */
const TICKS_PER_TIMEOUT = 8

/**
 * One batch given to `process` one message at a time: the path almost every message takes, so
 * it costs no promise of its own per message. A message done with synchronously costs none at
 * all; one whose processor returns a promise costs only the `await` of that promise, here in
 * the loop. PROCESSING_TIMEOUT_MS and the deadline are kept by one timer per batch (the
 * watchdog), not one per call, and without reading the clock per call: while calls are in
 * flight it ticks every eighth of the timeout (sooner at the deadline), and a call it finds in
 * flight at more than eight ticks in a row has run for longer than the timeout (by at most an
 * eighth of it). It abandons that call (as if it had thrown a ProcessingTimeoutError, or left
 * for the next run at the deadline) and carries on the delivery in a new loop; the loop that
 * was awaiting the abandoned call sees it was superseded and ends when (if ever) the call
 * settles, its rejection handled.
 */
class OneAtATime {
  readonly #records: readonly FetchedRecord[]
  readonly #reader: MessageReader
  readonly #context: DeliveryContext
  readonly #call: (message: KafkaMessage) => Promise<void> | void
  /** The next record to start. */
  #next = 0
  /** Bumped when the watchdog abandons a call: the loop awaiting it is then superseded. */
  #generation = 0
  #ended = false
  #resolve: (result: DeliveryResult) => void = () => {}
  #reject: (error: unknown) => void = () => {}
  /** The call in flight, if one is: its record's index (else -1) and its message. */
  #watchedIndex = -1
  #watchedMessage: KafkaMessage | undefined
  /** The call the watchdog found in flight at its last tick, and at how many ticks in a row. */
  #seenIndex = -1
  #seenTicks = 0
  #watchdog: NodeJS.Timeout | undefined
  /** The watchdog's tick, ms: an eighth of the timeout; infinite without a timeout. */
  readonly #tickMs: number
  /** Neither a timeout nor a deadline: no call is watched. */
  readonly #unbounded: boolean

  constructor(
    records: readonly FetchedRecord[],
    reader: MessageReader,
    context: DeliveryContext,
    process: (message: KafkaMessage) => Promise<void> | void,
  ) {
    this.#records = records
    this.#reader = reader
    this.#context = context
    this.#call = process
    const timeoutMs = context.policy.timeoutMs ?? Number.POSITIVE_INFINITY
    this.#tickMs = timeoutMs / TICKS_PER_TIMEOUT
    this.#unbounded = !Number.isFinite(timeoutMs) && !Number.isFinite(context.deadline)
  }

  run(preparing: Promise<void> | undefined): Promise<DeliveryResult> {
    return new Promise<DeliveryResult>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
      void this.#loop(
        0,
        preparing?.then(() => undefined),
      )
    })
  }

  /** Delivers from `#next` on; `first`: what must be done before (a schema fetch, a retry). */
  async #loop(generation: number, first: Promise<DeliveryResult | undefined> | undefined): Promise<void> {
    const records = this.#records
    const reader = this.#reader
    const context = this.#context
    const call = this.#call
    const { topic, partition } = context
    try {
      if (first !== undefined) {
        const stop = await first
        if (generation !== this.#generation) return
        if (stop !== undefined) return this.#end(stop)
      }
      let turn = 0
      while (this.#next < records.length) {
        if (++turn === MESSAGES_PER_TURN) {
          turn = 0
          await nextTurn()
        }
        if (context.shouldStop()) return this.#end({ complete: false })
        const record = records[this.#next++]!
        let message: Readout | Promise<Readout>
        try {
          message = reader.read(topic, partition, record)
        } catch (error) {
          const stop = await notRead(record, error, context)
          if (stop !== undefined) return this.#end(stop)
          continue
        }
        if (message instanceof Promise) {
          // A schema that validates asynchronously: the slower path, a promise per message.
          const stop = await readLater(message, record, context, call)
          if (stop !== undefined) return this.#end(stop)
          continue
        }
        if (message !== FILTERED) {
          let result: Promise<void> | void
          try {
            result = call(message as KafkaMessage)
          } catch (error) {
            const stop = await retryOrDeadLetter(record, message as KafkaMessage, call, context, { error })
            if (stop !== undefined) return this.#end(stop)
            continue
          }
          if (result !== undefined) {
            // Watched: the index and the message are all the watchdog needs, no clock read.
            this.#watchedIndex = this.#next - 1
            this.#watchedMessage = message as KafkaMessage
            if (this.#watchdog === undefined && !this.#unbounded) this.#arm()
            try {
              await result
            } catch (error) {
              if (generation !== this.#generation) return
              this.#watchedIndex = -1
              const stop = await retryOrDeadLetter(record, message as KafkaMessage, call, context, { error })
              if (stop !== undefined) return this.#end(stop)
              continue
            }
            // Abandoned meanwhile: another loop has carried on from the next message.
            if (generation !== this.#generation) return
            this.#watchedIndex = -1
          }
        }
        const waiting = context.onDone(record.offset, message === FILTERED ? 'filtered' : 'processed')
        if (waiting !== undefined) await waiting
      }
      this.#end({ complete: true })
    } catch (error) {
      // Not a message failing (those are handled above): a bug, for the cycle to report.
      if (generation === this.#generation && !this.#ended) {
        this.#ended = true
        this.#stopWatchdog()
        this.#reject(error)
      }
    }
  }

  #end(result: DeliveryResult): void {
    if (this.#ended) return
    this.#ended = true
    this.#stopWatchdog()
    this.#resolve(result)
  }

  /** The next tick: an eighth of the timeout from now, or the deadline if that comes first. */
  #arm(): void {
    const context = this.#context
    const untilDeadlineMs = context.deadline - context.clock()
    this.#watchdog = setTimeout(this.#onTick, Math.max(1, Math.ceil(Math.min(this.#tickMs, untilDeadlineMs))))
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog)
    this.#watchdog = undefined
    this.#watchedIndex = -1
    this.#watchedMessage = undefined
  }

  readonly #onTick = (): void => {
    this.#watchdog = undefined
    const index = this.#watchedIndex
    const message = this.#watchedMessage
    // Nothing in flight: the next call arms it again.
    if (index < 0 || message === undefined || this.#ended) {
      this.#seenIndex = -1
      return
    }
    if (index === this.#seenIndex) this.#seenTicks++
    else {
      this.#seenIndex = index
      this.#seenTicks = 1
    }
    const context = this.#context
    const record = this.#records[index]!
    const atDeadline = context.deadline - context.clock() <= 0
    // Seen at more than TICKS_PER_TIMEOUT ticks in a row: in flight for more than the timeout.
    if (!atDeadline && this.#seenTicks <= TICKS_PER_TIMEOUT) {
      this.#arm()
      return
    }
    // The call is abandoned, not cancelled: the loop awaiting it is superseded by a new one.
    this.#generation++
    this.#watchedIndex = -1
    this.#watchedMessage = undefined
    this.#seenIndex = -1
    if (atDeadline) {
      this.#end(leftForNextRun(record.offset, context))
      return
    }
    const timeoutMs = context.policy.timeoutMs ?? Number.POSITIVE_INFINITY
    context.metrics.count('ProcessingTimeouts', 1)
    const error = new ProcessingTimeoutError(context.topic, context.partition, record.offset, timeoutMs, 1)
    void this.#loop(this.#generation, retryOrDeadLetter(record, message, this.#call, context, { error }))
  }
}

/**
 * Batches: each run of readable records between unreadable ones goes to the processor as
 * one batch, less the ones the filter left out (done with in their place, in offset order).
 * A batch still failing after its retries is taken apart: each of its messages is given to
 * the processor alone (its own retries), so only the ones that really fail are
 * dead-lettered. The others may so be processed twice (at-least-once).
 */
async function deliverInBatches(
  records: readonly FetchedRecord[],
  reader: MessageReader,
  context: DeliveryContext,
  processBatch: NonNullable<Processor['processBatch']>,
): Promise<DeliveryResult> {
  let index = 0
  while (index < records.length) {
    if (context.shouldStop()) return { complete: false }
    const batch: Array<{ record: FetchedRecord; message: Readout }> = []
    let unreadable: { record: FetchedRecord; error: unknown } | undefined
    for (; index < records.length && unreadable === undefined; index++) {
      const record = records[index]!
      try {
        batch.push({ record, message: await reader.read(context.topic, context.partition, record) })
      } catch (error) {
        unreadable = { record, error }
      }
    }
    const messages: KafkaMessage[] = []
    // The reader decodes keys in KEY_FORMAT: the processor was declared for it (createHandler).
    for (const item of batch) if (item.message !== FILTERED) messages.push(item.message as KafkaMessage)
    if (messages.length === 0) {
      for (const { record } of batch) await context.onDone(record.offset, 'filtered')
    } else {
      const first = batch[0]!.record.offset
      const attempt = await withRetries(
        () => processBatch(messages),
        first,
        context,
        undefined,
        messages.length,
      )
      if (attempt.status === 'deferred') return { complete: false, outOfTime: attempt.outOfTime }
      if (attempt.status === 'ok') {
        for (const { record, message } of batch)
          await context.onDone(record.offset, message === FILTERED ? 'filtered' : 'processed')
      } else {
        context.logger.warn('Batch still failing after its retries; processing its messages one at a time', {
          topic: context.topic,
          partition: context.partition,
          fromOffset: first,
          toOffset: batch[batch.length - 1]!.record.offset,
          error: messageOf(attempt.error),
        })
        for (const { record, message } of batch) {
          if (context.shouldStop()) return { complete: false }
          const stop =
            message === FILTERED
              ? await context.onDone(record.offset, 'filtered')
              : await deliverRead(record, message as KafkaMessage, context, (one) => processBatch([one]))
          if (stop !== undefined) return stop
        }
      }
    }
    if (unreadable !== undefined) {
      if (context.shouldStop()) return { complete: false }
      const stop = await notRead(unreadable.record, unreadable.error, context)
      if (stop !== undefined) return stop
    }
  }
  return { complete: true }
}

/** A schema that validates asynchronously: waits for it, then as `deliverRead`. */
async function readLater(
  reading: Promise<Readout>,
  record: FetchedRecord,
  context: DeliveryContext,
  call: (message: KafkaMessage) => Promise<void> | void,
): Promise<DeliveryResult | undefined> {
  let message: Readout
  try {
    message = await reading
  } catch (error) {
    return notRead(record, error, context)
  }
  if (message === FILTERED) return doneWith(record, 'filtered', context)
  return deliverRead(record, message as KafkaMessage, context, call)
}

function doneWith(
  record: FetchedRecord,
  outcome: Outcome,
  context: DeliveryContext,
): Promise<DeliveryResult | undefined> | undefined {
  const waiting = context.onDone(record.offset, outcome)
  return waiting === undefined ? undefined : waiting.then(() => undefined)
}

/**
 * A message read, off the main path (a taken-apart batch, a schema that validates
 * asynchronously): processed with retries, else dead-lettered. Returns undefined when it was
 * done with synchronously, else a promise of undefined once it is done, or of the result that
 * ends the delivery.
 */
function deliverRead(
  record: FetchedRecord,
  message: KafkaMessage,
  context: DeliveryContext,
  call: (message: KafkaMessage) => Promise<void> | void,
): Promise<DeliveryResult | undefined> | undefined {
  // The first call outside the retry loop: this path runs once per message (no closure, no
  // promise unless the processor returns one).
  let result: Promise<void> | void
  try {
    result = call(message)
  } catch (error) {
    return retryOrDeadLetter(record, message, call, context, { error })
  }
  if (result !== undefined) return finishProcessing(result, record, message, call, context)
  return doneWith(record, 'processed', context)
}

/** The processor returned a promise: waits for it (bounded by `withinTime`), then as `deliverRead`. */
async function finishProcessing(
  result: Promise<void>,
  record: FetchedRecord,
  message: KafkaMessage,
  call: (message: KafkaMessage) => Promise<void> | void,
  context: DeliveryContext,
): Promise<DeliveryResult | undefined> {
  try {
    await withinTime(result, record.offset, 1, context)
  } catch (error) {
    if (error === OUT_OF_TIME) return leftForNextRun(record.offset, context)
    return retryOrDeadLetter(record, message, call, context, { error })
  }
  await context.onDone(record.offset, 'processed')
  return undefined
}

/** The first call failed with `first`: the retries, then the dead letter. */
async function retryOrDeadLetter(
  record: FetchedRecord,
  message: KafkaMessage,
  call: (message: KafkaMessage) => Promise<void> | void,
  context: DeliveryContext,
  first: { readonly error: unknown },
): Promise<DeliveryResult | undefined> {
  const attempt = await withRetries(() => call(message), record.offset, context, first)
  if (attempt.status === 'ok') {
    await context.onDone(record.offset, 'processed')
    return undefined
  }
  if (attempt.status === 'deferred') return { complete: false, outOfTime: attempt.outOfTime }
  return deadLetter(
    record,
    { reason: 'processing-failed', error: attempt.error, attempts: attempt.attempts },
    context,
  )
}

/**
 * A record that could not be read. The message's own fault (not decodable, rejected by the
 * schema or the filter): dead-lettered at once, retrying cannot help. Anything else (a schema
 * registry out of reach): the partition stops before it for this run, and no dead letter is
 * written, since the next run may well read it.
 */
function notRead(
  record: FetchedRecord,
  error: unknown,
  context: DeliveryContext,
): Promise<DeliveryResult | undefined> {
  if (error instanceof MessageDecodeError) {
    return deadLetter(record, { reason: error.kind, error, attempts: 0 }, context)
  }
  return Promise.resolve({
    complete: false,
    failure: { partition: context.partition, offset: record.offset, reason: messageOf(error), error },
  })
}

type Attempt =
  | { readonly status: 'ok' }
  /** The deadline (or a stop) came before the next retry: the message is left for the next run. */
  | { readonly status: 'deferred'; readonly outOfTime: boolean }
  | { readonly status: 'failed'; readonly error: unknown; readonly attempts: number }

/**
 * Calls with retries; `first`: the first call was already made, and failed with this.
 * `messages`: how many the call covers (a batch), for the timeout's error.
 */
async function withRetries(
  call: () => Promise<void> | void,
  offset: number,
  context: DeliveryContext,
  first?: { readonly error: unknown },
  messages = 1,
): Promise<Attempt> {
  const { attempts, retryDelayMs } = context.policy
  const position = { topic: context.topic, partition: context.partition, offset }
  let previous: unknown = first?.error
  for (let attempt = 1; ; attempt++) {
    try {
      if (attempt === 1 && first !== undefined) throw first.error
      const result = call()
      if (result !== undefined) await withinTime(result, offset, messages, context)
      return { status: 'ok' }
    } catch (error) {
      if (error === OUT_OF_TIME) {
        leftForNextRun(offset, context, previous)
        return { status: 'deferred', outOfTime: true }
      }
      previous = error
      if (attempt >= attempts) return { status: 'failed', error, attempts: attempt }
      const delayMs = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (attempt - 1))
      const outOfTime = context.clock() + delayMs >= context.deadline
      if (outOfTime || context.shouldStop()) {
        context.logger.warn('Processor failed and the run ends before its retry; the next run tries again', {
          ...position,
          attempt,
          error: messageOf(error),
          ...(error instanceof ProcessingTimeoutError && { fix: HANGING_FIX }),
        })
        return { status: 'deferred', outOfTime }
      }
      context.logger.warn('Processor failed; retrying', {
        ...position,
        attempt,
        attempts,
        retryInMs: delayMs,
        error: messageOf(error),
      })
      context.metrics.count('ProcessingRetries', 1)
      await context.sleep(delayMs)
    }
  }
}

/** Rejects `withinTime` at the deadline: not a failure of the message, which is left for the next run. */
const OUT_OF_TIME: unique symbol = Symbol('deadline')

/**
 * Waits for a processor call that returned a promise, at most `timeoutMs` (the attempt then
 * fails with a `ProcessingTimeoutError`) and never past the deadline (it then rejects with
 * `OUT_OF_TIME`). Either way the call itself is abandoned, not cancelled: it may still complete
 * in the background, and the next attempt or the next message does not wait for it.
 */
function withinTime(
  result: Promise<void>,
  offset: number,
  messages: number,
  context: DeliveryContext,
): Promise<void> {
  const timeoutMs = context.policy.timeoutMs ?? Number.POSITIVE_INFINITY
  const boundMs = Math.min(timeoutMs, context.deadline - context.clock())
  if (!Number.isFinite(boundMs)) return result
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        if (boundMs < timeoutMs) return reject(OUT_OF_TIME)
        context.metrics.count('ProcessingTimeouts', 1)
        reject(new ProcessingTimeoutError(context.topic, context.partition, offset, timeoutMs, messages))
      },
      Math.max(0, boundMs),
    )
    // Subscribing also keeps a late rejection of an abandoned call from going unhandled.
    Promise.resolve(result).then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * A message whose every attempt times out is dead-lettered only if all its attempts fit in one
 * run; otherwise each run leaves it for the next one, and its partition never gets past it.
 */
const HANGING_FIX =
  'PROCESSING_ATTEMPTS x PROCESSING_TIMEOUT_MS must fit in one run, or a message the processor hangs on every time is never dead-lettered: lower PROCESSING_TIMEOUT_MS, or give the function a longer timeout'

function leftForNextRun(offset: number, context: DeliveryContext, previous?: unknown): DeliveryResult {
  context.logger.warn('Processor still running at the deadline; the next run tries the message again', {
    topic: context.topic,
    partition: context.partition,
    offset,
    ...(previous instanceof ProcessingTimeoutError && { error: messageOf(previous), fix: HANGING_FIX }),
  })
  return { complete: false, outOfTime: true }
}

async function deadLetter(
  record: FetchedRecord,
  failure: { reason: Parameters<typeof deadLetterOf>[4]['reason']; error: unknown; attempts: number },
  context: DeliveryContext,
): Promise<DeliveryResult | undefined> {
  const position = { partition: context.partition, offset: record.offset }
  const sink = context.deadLetters
  if (sink === undefined) {
    // No destination: the partition stops before the message, as it always has.
    return {
      complete: false,
      failure: { ...position, reason: messageOf(failure.error), error: failure.error },
    }
  }
  const letter = deadLetterOf(
    context.consumerId,
    context.topic,
    context.partition,
    record,
    failure,
    new Date(context.clock()),
  )
  try {
    await sink.send(letter)
  } catch (error) {
    return {
      complete: false,
      failure: {
        ...position,
        reason: `${messageOf(failure.error)}; and it could not be dead-lettered: ${messageOf(error)}`,
        error,
      },
    }
  }
  context.logger.warn('Message dead-lettered; its partition moves on', {
    topic: context.topic,
    ...position,
    reason: failure.reason,
    attempts: failure.attempts,
    destination: sink.destination,
    error: messageOf(failure.error),
  })
  await context.onDone(record.offset, 'dead-lettered')
  return undefined
}
