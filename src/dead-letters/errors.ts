import { LambdaKafkaConsumerError } from '../errors.ts'
import type { DeadLetter } from './dead-letter.ts'

const positionOf = (letter: DeadLetter) => `${letter.topic}/${letter.partition}@${letter.offset}`

/**
 * A dead letter could not be written. The message was not skipped: its partition stops
 * before it, the progress before it is saved, and the next run tries again.
 */
export class DeadLetterWriteError extends LambdaKafkaConsumerError {
  readonly destination: string
  readonly topic: string
  readonly partition: number
  readonly offset: number

  constructor(destination: string, letter: DeadLetter, detail: string, cause?: unknown, fix?: string) {
    super(
      `Could not dead-letter message ${positionOf(letter)} to ${destination}: ${detail}. ` +
        `${fix ?? 'Check that the destination exists and that this function may write to it'}; ` +
        'the partition stops before the message and the next run tries again.',
      { cause, retriable: true },
    )
    this.destination = destination
    this.topic = letter.topic
    this.partition = letter.partition
    this.offset = letter.offset
  }
}

/**
 * A dead letter is larger than its destination accepts. A sink that routes letters by size
 * moves on to the next destination; with none left, the partition stops before the message.
 */
export class DeadLetterTooLargeError extends LambdaKafkaConsumerError {
  readonly destination: string
  readonly sizeInBytes: number
  readonly limitInBytes: number | undefined

  constructor(
    destination: string,
    letter: DeadLetter,
    sizeInBytes: number,
    limitInBytes?: number,
    cause?: unknown,
  ) {
    super(
      `Dead letter for message ${positionOf(letter)} is ${sizeInBytes} bytes, more than ${destination} accepts` +
        `${limitInBytes === undefined ? '' : ` (${limitInBytes} bytes)`}. ` +
        "Set DEAD_LETTER_TOPIC to a Kafka topic whose max.message.bytes is at least the source topic's " +
        '(letters too large for SQS then go there whole); the partition stops before the message until then.',
      { cause, retriable: false },
    )
    this.destination = destination
    this.sizeInBytes = sizeInBytes
    this.limitInBytes = limitInBytes
  }
}
