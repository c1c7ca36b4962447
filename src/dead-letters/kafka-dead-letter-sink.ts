/**
 * Dead letters to a Kafka topic (DEAD_LETTER_TOPIC, e.g. `orders.dlq`): natural for local runs
 * and for letters too large for SQS. The letter is the original record: its key, value and
 * header bytes exactly as they were, plus `dlq.*` headers saying where it came from and why
 * (Kafka Connect's dead-letter topics do the same). So a letter is about as large as the
 * message; the topic's `max.message.bytes` must be at least the source topic's plus a few KB.
 *
 * Idempotent producer, acks from all in-sync replicas: `send` resolves once the letter is
 * durably written. The topic is never created here.
 */
import { Producer } from '@platformatic/kafka'
import { messageOf } from '../errors.ts'
import { baseClientOptions, type KafkaSecurity } from '../kafka/connection-options.ts'
import { detailOf } from '../kafka/platformatic-kafka-source.ts'
import type { DeadLetter, DeadLetterSink } from './dead-letter.ts'
import { DeadLetterTooLargeError, DeadLetterWriteError } from './errors.ts'

export interface KafkaDeadLetterSinkOptions {
  readonly bootstrapServers: readonly string[]
  readonly clientId: string
  readonly topic: string
  readonly requestTimeoutMs: number
  /** TLS and SASL, as for the consumer; default: PLAINTEXT. */
  readonly security?: KafkaSecurity
}

/** Header names carried by every letter, after the original headers. */
export const DEAD_LETTER_HEADERS = [
  'dlq.consumer_id',
  'dlq.topic',
  'dlq.partition',
  'dlq.offset',
  'dlq.timestamp',
  'dlq.reason',
  'dlq.error',
  'dlq.attempts',
  'dlq.dead_lettered_at',
] as const

/** The error text in a header is cut here: a header is metadata, not a log. */
const MAX_ERROR_HEADER_CHARS = 2000

export class KafkaDeadLetterSink implements DeadLetterSink {
  readonly destination: string
  readonly #topic: string
  /** Header values may be null (Kafka allows it, and the letter keeps the original's). */
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer | null>

  constructor(options: KafkaDeadLetterSinkOptions) {
    this.#topic = options.topic
    this.destination = `Kafka topic ${options.topic}`
    this.#producer = new Producer<Buffer, Buffer, Buffer, Buffer | null>({
      ...baseClientOptions({ ...options, clientId: `${options.clientId}-dead-letters` }),
      idempotent: true,
      acks: -1,
    })
  }

  async send(letter: DeadLetter): Promise<void> {
    try {
      await this.#producer.send({
        messages: [
          {
            topic: this.#topic,
            ...(letter.key !== null && { key: letter.key }),
            ...(letter.value !== null && { value: letter.value }),
            headers: recordHeadersOf(letter),
          },
        ],
      })
    } catch (error) {
      const detail = detailOf(error)
      if (/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|larger than the max message size/i.test(detail)) {
        const size = (letter.key?.length ?? 0) + (letter.value?.length ?? 0)
        throw new DeadLetterTooLargeError(this.destination, letter, size, undefined, error)
      }
      const fix = /unknown topic|UNKNOWN_TOPIC/i.test(detail)
        ? `Create the topic ${this.#topic} (DEAD_LETTER_TOPIC); the consumer never creates topics`
        : undefined
      throw new DeadLetterWriteError(this.destination, letter, detail || messageOf(error), error, fix)
    }
  }

  async close(): Promise<void> {
    await this.#producer.close(true)
  }
}

/**
 * The letter's record headers: the original headers first, as they were (a null value stays
 * null: Kafka tells a header without a value from one with an empty value), then the `dlq.*`
 * headers. A null header key, which Kafka's own clients never write, becomes an empty one.
 */
export function recordHeadersOf(letter: DeadLetter): Map<Buffer, Buffer | null> {
  const headers = new Map<Buffer, Buffer | null>()
  // Each Buffer is its own map key, so repeated original headers are all kept, in order.
  for (const [key, value] of letter.headers) headers.set(key ?? Buffer.alloc(0), value)
  const context: Record<(typeof DEAD_LETTER_HEADERS)[number], string> = {
    'dlq.consumer_id': letter.consumerId,
    'dlq.topic': letter.topic,
    'dlq.partition': String(letter.partition),
    'dlq.offset': String(letter.offset),
    'dlq.timestamp': new Date(letter.timestamp).toISOString(),
    'dlq.reason': letter.reason,
    'dlq.error': `${letter.error.name}: ${letter.error.message}`.slice(0, MAX_ERROR_HEADER_CHARS),
    'dlq.attempts': String(letter.attempts),
    'dlq.dead_lettered_at': letter.deadLetteredAt,
  }
  for (const [name, value] of Object.entries(context)) headers.set(Buffer.from(name), Buffer.from(value))
  return headers
}
