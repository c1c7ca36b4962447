/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * What a processor receives: one Kafka message, decoded in the configured formats
 * (VALUE_FORMAT, KEY_FORMAT; see value-formats.ts). The original bytes stay available in `raw`.
 */
import type { MessageHeaders } from './message-headers.ts'

export type { MessageHeaders } from './message-headers.ts'

/**
 * `Value` is what the value decodes to: the schema's output with `createHandler({ schema })`,
 * else what you declare. `Key` follows KEY_FORMAT: text by default (`string`), a
 * `Buffer` with `bytes`, the decoded value with `json`, `avro` or `protobuf`.
 */
export interface KafkaMessage<Value = unknown, Key = string> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  /** The key in KEY_FORMAT (UTF-8 text by default); `null` when the message has none. */
  readonly key: Key | null
  /**
   * The value in VALUE_FORMAT (parsed JSON by default); `null` for a tombstone (a message
   * without a value), in every format, and never given to the schema.
   */
  readonly value: Value | null
  /** Every header in order, repeated keys kept: `headers.get('trace-id')`, `headers.getAll('hop')`. */
  readonly headers: MessageHeaders
  /** The bytes as they came from Kafka. */
  readonly raw: {
    readonly key: Buffer | null
    readonly value: Buffer | null
    readonly headers: ReadonlyArray<readonly [Buffer | null, Buffer | null]>
  }
}

/** A user's processor for one message at a time. Throwing marks the message failed. */
export type ProcessMessage<Value = unknown, Key = string> = (
  message: KafkaMessage<Value, Key>,
) => Promise<void> | void

/**
 * A user's processor for the messages of one partition fetched together, in offset order.
 * Throwing marks the whole batch failed: none of it counts as processed.
 */
export type ProcessBatch<Value = unknown, Key = string> = (
  messages: ReadonlyArray<KafkaMessage<Value, Key>>,
) => Promise<void> | void

/** Either form; the handler factory and the cycle accept both. */
export type Processor<Value = unknown, Key = string> =
  | { readonly process: ProcessMessage<Value, Key>; readonly processBatch?: never }
  | { readonly processBatch: ProcessBatch<Value, Key>; readonly process?: never }
