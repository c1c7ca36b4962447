import { LambdaKafkaConsumerError } from '../errors.ts'

export interface MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/**
 * Why a key or a value cannot be decoded in its format. The dead letter's `reason` is this,
 * prefixed with `key-` for the key: `not-json`, `key-not-utf8`, `unknown-schema`, ...
 */
export type DecodeFailureKind =
  | 'empty-value'
  | 'not-utf8'
  | 'not-json'
  | 'not-avro'
  | 'not-protobuf'
  | 'not-json-schema'
  /** The schema id (Confluent) or schema version id (Glue) in the message is not in the registry. */
  | 'unknown-schema'

/**
 * Why a message was given up on before the processor saw it: its value or key cannot be
 * decoded, its value does not pass the handler's `schema`, or the handler's `filter` threw.
 */
export type UnreadableReason = DecodeFailureKind | `key-${DecodeFailureKind}` | 'schema' | 'filter-failed'

/** A decoder's verdict on some bytes, before it is known which message and which part they are. */
export class FormatError extends Error {
  readonly kind: DecodeFailureKind

  constructor(kind: DecodeFailureKind, reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause })
    this.name = 'FormatError'
    this.kind = kind
  }
}

const REMEDY: Partial<Record<UnreadableReason, string>> = {
  schema: 'retrying cannot help: the producer or the schema must be fixed',
  'filter-failed': 'retrying cannot help: the filter must be fixed (it must return true or false, not throw)',
}

/**
 * A message that cannot be read: not decodable in its format, rejected by the schema, or
 * the filter threw on it. Retrying will not help, so it is dead-lettered at once (or, with
 * no dead-letter destination, its partition stops before it).
 */
export class MessageDecodeError extends LambdaKafkaConsumerError implements MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly kind: UnreadableReason
  readonly reason: string

  constructor(position: MessagePosition, kind: UnreadableReason, reason: string, cause?: unknown) {
    super(
      `Message ${position.topic}/${position.partition}@${position.offset} cannot be decoded: ${reason}; ` +
        (REMEDY[kind] ?? 'retrying cannot help, the producer must be fixed'),
      { cause },
    )
    this.topic = position.topic
    this.partition = position.partition
    this.offset = position.offset
    this.kind = kind
    this.reason = reason
  }
}
