/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * What a processor receives: one Kafka message, decoded. The value is the parsed JSON
 * (`null` for a tombstone); the original bytes stay available in `raw`.
 */
export interface KafkaMessage<Value = unknown> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  /** The key as UTF-8 text, `null` when the message has none. */
  readonly key: string | null
  /** The value parsed as JSON; `null` for a tombstone (a message without a value). */
  readonly value: Value
  /** Header values as UTF-8 text; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>
  /** The bytes as they came from Kafka. */
  readonly raw: {
    readonly key: Buffer | null
    readonly value: Buffer | null
    readonly headers: ReadonlyArray<readonly [Buffer | null, Buffer | null]>
  }
}

/** A user's processor for one message at a time. Throwing marks the message failed. */
export type ProcessMessage<Value = unknown> = (message: KafkaMessage<Value>) => Promise<void> | void

/**
 * A user's processor for the messages of one partition fetched together, in offset order.
 * Throwing marks the whole batch failed: none of it counts as processed.
 */
export type ProcessBatch<Value = unknown> = (
  messages: ReadonlyArray<KafkaMessage<Value>>,
) => Promise<void> | void

/** Either form; the handler factory and the cycle accept both. */
export type Processor<Value = unknown> =
  | { readonly process: ProcessMessage<Value>; readonly processBatch?: never }
  | { readonly processBatch: ProcessBatch<Value>; readonly process?: never }
