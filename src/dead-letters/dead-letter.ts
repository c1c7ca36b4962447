/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * A dead letter: a message the consumer gave up on, kept whole with why. The cycle builds
 * letters and hands them to a `DeadLetterSink`; the adapters in this folder (an SQS queue, a
 * Kafka topic) write them. Pure data and encoding: no SDK, no Kafka client here.
 *
 * Every letter carries the original key, value and header bytes, where the message came from
 * (topic, partition, offset, timestamp), the reason, the last error, how many times the
 * processor was tried, and when it was dead-lettered.
 */

import { messageOf } from '../errors.ts'
import type { FetchedRecord } from '../ports.ts'
import type { UnreadableReason } from '../processing/errors.ts'

/**
 * Why a message was dead-lettered. Only `processing-failed` is retried first; the others
 * (`not-json`, `key-not-avro`, `unknown-schema`, `schema`, `filter-failed`, ...) say why it
 * could not be read at all.
 */
export type DeadLetterReason = 'processing-failed' | UnreadableReason

export interface DeadLetter {
  readonly consumerId: string
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** The message's own timestamp, milliseconds since the epoch. */
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: ReadonlyArray<readonly [Buffer | null, Buffer | null]>
  readonly reason: DeadLetterReason
  readonly error: { readonly name: string; readonly message: string }
  /** Processor calls made: 0 for a message that could not be decoded. */
  readonly attempts: number
  /** ISO-8601. */
  readonly deadLetteredAt: string
}

/** A dead-letter destination. `send` resolves once the letter is stored durably, or throws. */
export interface DeadLetterSink {
  /** Where letters go, for logs and errors, e.g. `SQS queue https://...` or `Kafka topic orders.dlq`. */
  readonly destination: string
  send(letter: DeadLetter): Promise<void>
  close(): Promise<void>
}

export function deadLetterOf(
  consumerId: string,
  topic: string,
  partition: number,
  record: FetchedRecord,
  failure: { reason: DeadLetterReason; error: unknown; attempts: number },
  now: Date,
): DeadLetter {
  // `messageOf`, not `String`: a processor may throw a value that cannot be turned into a string.
  const error =
    failure.error instanceof Error
      ? { name: String(failure.error.name), message: messageOf(failure.error) }
      : { name: 'Error', message: messageOf(failure.error) }
  return {
    consumerId,
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key,
    value: record.value,
    headers: record.headers,
    reason: failure.reason,
    error,
    attempts: failure.attempts,
    deadLetteredAt: now.toISOString(),
  }
}

/** Bytes in a JSON document: as text when they are valid UTF-8, else base64. */
export type EncodedBytes = { readonly encoding: 'utf8' | 'base64'; readonly data: string }

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function encodeBytes(bytes: Buffer | null): EncodedBytes | null {
  if (bytes === null) return null
  try {
    return { encoding: 'utf8', data: strictUtf8.decode(bytes) }
  } catch {
    return { encoding: 'base64', data: bytes.toString('base64') }
  }
}

export function decodeBytes(encoded: EncodedBytes | null): Buffer | null {
  if (encoded === null) return null
  return Buffer.from(encoded.data, encoded.encoding === 'base64' ? 'base64' : 'utf8')
}

/** The letter as a JSON document (the body of an SQS message), field names as in the README. */
export interface DeadLetterDocument {
  readonly version: 1
  readonly consumer_id: string
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** ISO-8601, and the same instant in milliseconds. */
  readonly timestamp: string
  readonly timestamp_ms: number
  readonly key: EncodedBytes | null
  readonly value: EncodedBytes | null
  readonly headers: ReadonlyArray<{ readonly key: EncodedBytes | null; readonly value: EncodedBytes | null }>
  readonly reason: DeadLetterReason
  readonly error: { readonly name: string; readonly message: string }
  readonly attempts: number
  readonly dead_lettered_at: string
}

export function documentOf(letter: DeadLetter): DeadLetterDocument {
  return {
    version: 1,
    consumer_id: letter.consumerId,
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    timestamp: new Date(letter.timestamp).toISOString(),
    timestamp_ms: letter.timestamp,
    key: encodeBytes(letter.key),
    value: encodeBytes(letter.value),
    headers: letter.headers.map(([key, value]) => ({ key: encodeBytes(key), value: encodeBytes(value) })),
    reason: letter.reason,
    error: letter.error,
    attempts: letter.attempts,
    dead_lettered_at: letter.deadLetteredAt,
  }
}

/**
 * JSON text safe for an SQS body: SQS rejects U+FFFE and U+FFFF, which are valid UTF-8 and
 * which `JSON.stringify` leaves as they are; they are written as `\ufffe` / `\uffff` escapes.
 */
export function serializeDocument(document: DeadLetterDocument): string {
  return JSON.stringify(document).replace(
    /[\ufffe\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16)}`,
  )
}
