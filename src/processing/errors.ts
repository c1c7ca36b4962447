import { LambdaKafkaConsumerError } from '../errors.ts'

export interface MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

/** A message that cannot be decoded: not UTF-8, not JSON, or empty. Retrying will not help. */
export class MessageDecodeError extends LambdaKafkaConsumerError implements MessagePosition {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly reason: string

  constructor(position: MessagePosition, reason: string, cause?: unknown) {
    super(
      `Message ${position.topic}/${position.partition}@${position.offset} cannot be decoded: ${reason}. ` +
        'Its partition stops before it; fix the producer, or move past it with `lkc reset`.',
      { cause },
    )
    this.topic = position.topic
    this.partition = position.partition
    this.offset = position.offset
    this.reason = reason
  }
}
