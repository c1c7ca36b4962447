/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * `lambda-kafka-consumer/testing`: what a team needs to unit-test its processor without Kafka:
 * a `KafkaMessage` built from a value (the raw bytes filled in as the consumer would have read
 * them), a partition's batch of them, and a Lambda-like invocation context.
 *
 *   import { kafkaMessage } from 'lambda-kafka-consumer/testing'
 *   await processOrder(kafkaMessage({ orderId: 1, item: 'book', quantity: 2 }, { key: 'order-1' }))
 */
import type { InvocationContext } from '../lambda/handler.ts'
import type { KafkaMessage } from '../processing/message.ts'
import { messageHeadersOf } from '../processing/message-headers.ts'

export interface KafkaMessageOptions {
  /** @default 'test-topic' */
  readonly topic?: string
  /** @default 0 */
  readonly partition?: number
  /** @default 0 */
  readonly offset?: number
  /** Milliseconds since the epoch. @default Date.now() */
  readonly timestamp?: number
  /** @default null (no key) */
  readonly key?: string | null
  /**
   * As an object, or as `[key, value]` pairs when a key repeats (read back with
   * `message.headers.getAll(key)`). @default none
   */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>
  /**
   * The value's bytes as they came from Kafka. Default: the value as JSON in UTF-8 (`null` for
   * a `null` value, a tombstone), what the consumer decodes into `value`.
   */
  readonly rawValue?: Buffer | null
}

/** One message as the processor receives it, from its decoded value. */
export function kafkaMessage<Value>(value: Value, options: KafkaMessageOptions = {}): KafkaMessage<Value> {
  const key = options.key ?? null
  const headerList = Array.isArray(options.headers)
    ? (options.headers as ReadonlyArray<readonly [string, string]>)
    : Object.entries(options.headers ?? {})
  const rawHeaders = headerList.map(
    ([name, text]) => [Buffer.from(name, 'utf8'), Buffer.from(text, 'utf8')] as const,
  )
  const rawValue =
    options.rawValue !== undefined
      ? options.rawValue
      : value === null
        ? null
        : Buffer.from(JSON.stringify(value), 'utf8')
  return {
    topic: options.topic ?? 'test-topic',
    partition: options.partition ?? 0,
    offset: options.offset ?? 0,
    timestamp: options.timestamp ?? Date.now(),
    key,
    value,
    headers: messageHeadersOf(rawHeaders),
    raw: {
      key: key === null ? null : Buffer.from(key, 'utf8'),
      value: rawValue,
      headers: rawHeaders,
    },
  }
}

/**
 * The messages of one partition fetched together, as `processBatch` receives them: consecutive
 * offsets from `options.offset` (default 0), each keyed by `keyOf` when given.
 */
export function kafkaMessages<Value>(
  values: readonly Value[],
  options: Omit<KafkaMessageOptions, 'key' | 'rawValue'> & {
    readonly keyOf?: (value: Value, index: number) => string | null
  } = {},
): KafkaMessage<Value>[] {
  const { keyOf, ...common } = options
  const first = common.offset ?? 0
  return values.map((value, index) =>
    kafkaMessage(value, { ...common, offset: first + index, key: keyOf ? keyOf(value, index) : null }),
  )
}

/** A context like Lambda's, with `remainingMs` left (default one minute), for invoking a handler. */
export function invocationContext(
  options: { readonly remainingMs?: number; readonly awsRequestId?: string } = {},
): InvocationContext {
  const deadline = Date.now() + (options.remainingMs ?? 60_000)
  return {
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    awsRequestId: options.awsRequestId ?? `test-${Date.now()}`,
  }
}
