import { LambdaKafkaConsumerError } from '../errors.ts'
import type { CycleSummary } from './run-cycle.ts'

/**
 * Messages failed: each one's partition stopped just before it and the progress of every
 * partition was saved. The invocation fails so that Lambda's error metrics and alarms see it.
 */
export class MessagesFailedError extends LambdaKafkaConsumerError {
  readonly failures: CycleSummary['failures']

  constructor(summary: CycleSummary) {
    const list = summary.failures
      .map((failure) => `partition ${failure.partition} at offset ${failure.offset}: ${failure.reason}`)
      .join('; ')
    super(
      `${summary.failures.length} message(s) of ${summary.topic} failed and were not skipped: ${list}. ` +
        `Each partition stops before its failed message until that message processes; the other ${summary.count} ` +
        'message(s) were processed and their offsets saved.',
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

/** The error an invocation ends with, if any: Kafka failing mid-run, failed messages, or offset conflicts. */
export function failureOf(summary: CycleSummary): unknown {
  if (summary.error !== undefined) return summary.error
  if (summary.failures.length > 0) return new MessagesFailedError(summary)
  if (summary.conflicts.length > 0) return new OffsetConflictError(summary)
  return undefined
}
