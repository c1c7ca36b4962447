import { LambdaKafkaConsumerError } from '../errors.ts'
import type { CycleSummary, OffsetMismatch } from './types.ts'

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

/** Why a stored offset does not fit its log, in words an operator can act on. */
export function mismatchCause(mismatch: OffsetMismatch): string {
  const idNow = mismatch.topicId ?? 'another'
  let cause: string
  if (mismatch.reason === 'beyond-end') {
    cause =
      'it is past the end of the log: the topic was deleted and created again (or moved to another cluster), ' +
      'or an unclean leader election truncated its log'
  } else if (mismatch.storedTopicId !== undefined) {
    cause =
      `it was saved for topic id ${mismatch.storedTopicId}, and the topic's id is now ${idNow}: ` +
      'the topic was deleted and created again'
  } else {
    cause =
      `it was saved before topic ids were stored, beside offsets saved for another topic id than today's (${idNow}): ` +
      'the topic was deleted and created again'
  }
  return mismatch.foundAt === undefined
    ? cause
    : `${cause} (found at ${mismatch.foundAt}, and recorded in its item)`
}

/** What the operator does about it. */
export function mismatchFix(partition?: number): string {
  const only = partition === undefined ? '' : ` --partition ${partition}`
  return (
    `decide where it starts: \`lkc reset --to earliest${only}\` processes every message its log holds now (after a ` +
    `re-creation: the whole new topic), \`--to latest\` skips them; until then it is not consumed and every run fails, ` +
    'so nothing is skipped without a decision'
  )
}

/**
 * Partitions whose stored offset does not fit their log (a re-created topic, a truncated log):
 * they were not consumed, and stay so until an operator decides where they start. Consuming
 * from the stored offset would skip what the log now holds below it; from the log's start would
 * process again what the offset already covered. Neither is the run's to choose.
 */
export class StoredOffsetMismatchError extends LambdaKafkaConsumerError {
  readonly topic: string
  readonly mismatches: CycleSummary['mismatches']

  constructor(summary: Pick<CycleSummary, 'topic' | 'mismatches'>) {
    const list = summary.mismatches
      .map(
        (mismatch) =>
          `partition ${mismatch.partition}: stored offset ${mismatch.storedOffset}, log ${mismatch.logStartOffset} to ` +
          `${mismatch.logEndOffset} (its end offset); ${mismatchCause(mismatch)}`,
      )
      .join('; ')
    super(
      `${summary.mismatches.length} partition(s) of ${summary.topic} were not consumed: their stored offsets do not ` +
        `fit the log, and resuming from them would skip what the log now holds below them. ${list}. Nothing was ` +
        'skipped: these partitions stay stopped, and every run fails, until you decide where they start: ' +
        '`lkc reset --to earliest` processes each from its first message (after a re-creation: the whole new ' +
        'topic), `--to latest` skips what it holds now (`--partition P` for one). The other partitions were ' +
        'consumed as usual. See the runbook, "A re-created topic".',
      { retriable: false },
    )
    this.topic = summary.topic
    this.mismatches = summary.mismatches
  }
}

/**
 * A processor call (one message, or one batch) that had not settled within
 * PROCESSING_TIMEOUT_MS. It counts as a failed attempt: the message is tried again, then
 * dead-lettered. The call is abandoned, not cancelled: whatever it was doing may still
 * complete in the background (at-least-once).
 */
export class ProcessingTimeoutError extends LambdaKafkaConsumerError {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timeoutMs: number

  constructor(topic: string, partition: number, offset: number, timeoutMs: number, messages = 1) {
    const what =
      messages === 1
        ? `message ${topic}/${partition} at offset ${offset}`
        : `a batch of ${messages} messages of ${topic}/${partition} from offset ${offset}`
    super(
      `The processor did not finish ${what} within PROCESSING_TIMEOUT_MS (${timeoutMs} ms). The call was ` +
        'abandoned and counts as a failed attempt; it may still complete in the background. Bound the ' +
        "processor's own calls (timeouts on its clients), or raise PROCESSING_TIMEOUT_MS if it is just slow.",
      { retriable: true },
    )
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.timeoutMs = timeoutMs
  }
}

/**
 * The error an invocation ends with, if any: Kafka or the final save failing, stored offsets
 * that do not fit their log, failed messages, or offset conflicts. A run that found the lease
 * held ends without one.
 */
export function failureOf(summary: CycleSummary): unknown {
  if (summary.error !== undefined) return summary.error
  if (summary.mismatches.length > 0) return new StoredOffsetMismatchError(summary)
  if (summary.failures.length > 0) return new MessagesFailedError(summary)
  if (summary.conflicts.length > 0) return new OffsetConflictError(summary)
  return undefined
}
