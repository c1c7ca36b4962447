/**
 * Several destinations in order of preference: each letter goes to the first that accepts its
 * size. With both DEAD_LETTER_QUEUE_URL and DEAD_LETTER_TOPIC set, letters go to SQS, and the
 * ones too large for SQS go to the Kafka topic, whole. Any other failure is not routed around:
 * a destination that is down stops the partition, so where letters land stays predictable.
 */
import type { DeadLetter, DeadLetterSink } from './dead-letter.ts'
import { DeadLetterTooLargeError } from './errors.ts'

export class RoutedDeadLetterSink implements DeadLetterSink {
  readonly destination: string
  readonly #sinks: readonly DeadLetterSink[]

  constructor(sinks: readonly DeadLetterSink[]) {
    if (sinks.length === 0) throw new RangeError('RoutedDeadLetterSink needs at least one destination')
    this.#sinks = sinks
    this.destination = sinks
      .map((sink, index) => (index === 0 ? sink.destination : `(too large for it: ${sink.destination})`))
      .join(' ')
  }

  async send(letter: DeadLetter): Promise<void> {
    for (const [index, sink] of this.#sinks.entries()) {
      try {
        await sink.send(letter)
        return
      } catch (error) {
        if (!(error instanceof DeadLetterTooLargeError) || index === this.#sinks.length - 1) throw error
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#sinks.map((sink) => sink.close()))
  }
}
