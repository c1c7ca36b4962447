import { LambdaKafkaConsumerError } from '../errors.ts'
import type { CycleSummary } from './types.ts'

/**
 * Messages failed: each could be neither processed nor dead-lettered, so its partition
 * stopped just before it and the progress of every partition was saved. The invocation fails
 * so that Lambda's error metrics, alarms and failure destination see it.
 */
export class MessagesFailedError extends LambdaKafkaConsumerError {
  readonly failures: CycleSummary['failures']

  constructor(summary: CycleSummary) {
    const list = summary.failures
      .map((failure) => `partition ${failure.partition} at offset ${failure.offset}: ${failure.reason}`)
      .join('; ')
    super(
      `${summary.failures.length} message(s) of ${summary.topic} failed and were not skipped: ${list}. ` +
        'Each partition stops before its failed message until that message processes or is dead-lettered ' +
        '(set DEAD_LETTER_QUEUE_URL or DEAD_LETTER_TOPIC to move failed messages aside); the other ' +
        `${summary.count} message(s) were processed and their offsets saved.`,
    )
    this.failures = summary.failures
  }
}

/** Another writer changed stored offsets during the run; they were left as that writer saved them. */
export class OffsetConflictError extends LambdaKafkaConsumerError {
  readonly conflicts: CycleSummary['conflicts']

  constructor(summary: CycleSummary) {
    const list = summary.conflicts
      .map((conflict) => `partition ${conflict.partition} (now ${conflict.current ?? 'deleted'})`)
      .join(', ')
    super(
      `Offsets of ${summary.consumerId} were changed by another run or by hand while this one ran: ${list}. ` +
        'They were not overwritten; the messages this run processed there will be processed again. ' +
        'Make sure only one consumer runs per consumer_id (reserved concurrency 1).',
    )
    this.conflicts = summary.conflicts
  }
}

/**
 * A partition's next offset was deleted by retention before it was read, and
 * OFFSET_OUT_OF_RANGE_POLICY is `fail`: the partition stops until someone decides.
 */
export class OffsetOutOfRangeError extends LambdaKafkaConsumerError {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly logStartOffset: number

  constructor(topic: string, partition: number, offset: number, logStartOffset: number) {
    super(
      `Offset ${offset} of ${topic}/${partition} is no longer in the log: it now starts at ${logStartOffset}, so ` +
        `${logStartOffset - offset} message(s) were deleted by retention before they were read. ` +
        'OFFSET_OUT_OF_RANGE_POLICY=fail stops the partition here; set it to earliest to resume at the log start ' +
        '(or latest, at its end), or lengthen the retention of the topic.',
    )
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.logStartOffset = logStartOffset
  }
}

/**
 * The error an invocation ends with, if any: Kafka or the final save failing, failed messages,
 * or offset conflicts. A run that found the lease held ends without one.
 */
export function failureOf(summary: CycleSummary): unknown {
  if (summary.error !== undefined) return summary.error
  if (summary.failures.length > 0) return new MessagesFailedError(summary)
  if (summary.conflicts.length > 0) return new OffsetConflictError(summary)
  return undefined
}
