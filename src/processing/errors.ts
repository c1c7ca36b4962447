import { LambdaKafkaConsumerError } from '../errors.ts'

export interface MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** Why a value cannot be decoded; also the dead letter's `reason`. */
export type DecodeFailureKind = 'empty-value' | 'not-utf8' | 'not-json'

/**
 * A message that cannot be decoded: not UTF-8, not JSON, or empty. Retrying will not help, so
 * it is dead-lettered at once (or, with no dead-letter destination, its partition stops before it).
 */
export class MessageDecodeError extends LambdaKafkaConsumerError implements MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly kind: DecodeFailureKind
  readonly reason: string

  constructor(position: MessagePosition, kind: DecodeFailureKind, reason: string, cause?: unknown) {
    super(
      `Message ${position.topic}/${position.partition}@${position.offset} cannot be decoded: ${reason}; ` +
        'retrying cannot help, the producer must be fixed',
      { cause },
    )
    this.topic = position.topic
    this.partition = position.partition
    this.offset = position.offset
    this.kind = kind
    this.reason = reason
  }
}
