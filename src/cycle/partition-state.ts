/**
 * One partition's state during a run, and where it starts. The start is one decision
 * (`decideStart`), from the partition's stored item and the log's watermarks: START_POSITION
 * for a partition this consumer has never consumed (`isFirstRun`), the first message of a
 * partition added since, the stored offset + 1, or an offset the run cannot consume as it is:
 * deleted by retention (resumed per OFFSET_OUT_OF_RANGE_POLICY by `resolveOutOfRange`, with a
 * warning that says how many offsets were lost), or not fitting the log at all (saved for a
 * topic since re-created, or beyond the log's end): that partition stops, and stays stopped
 * until an operator runs `lkc reset`; consuming it would skip what the log now holds.
 */
import type {
  LogAttributes,
  Logger,
  Metrics,
  PartitionWatermarks,
  StoredOffset,
  StoredOffsets,
} from '../ports.ts'
import type { PartitionFailure } from './deliver-records.ts'
import { mismatchCause, mismatchFix, OffsetOutOfRangeError } from './errors.ts'
import type { OffsetMismatch, OutOfRangePolicy, StartPosition } from './types.ts'

export interface PartitionState {
  readonly partition: number
  /** The offset in the table when the run started (or after its last save). */
  stored: number | undefined
  /** The item as read at the start (its topic id, a recorded mismatch). */
  readonly item?: StoredOffset
  /** The next offset to consume; everything before it has been done with or skipped on purpose. */
  position: number
  /** Where this run started; set once the start is resolved. */
  fromOffset: number
  endOffset: number
  count: number
  deadLettered: number
  filtered: number
  /** Stopped: a failed message, a conflict, or an offset the run cannot resolve on its own. */
  halted: boolean
  /** Someone else moved the stored offset: never written again by this run. */
  conflicted: boolean
  failure?: PartitionFailure
  /** Write even if nothing was done: a `latest` start must be remembered, or the next run would skip ahead again. */
  mustSave: boolean
  /** Left out of this run: no leader, or its leader did not answer. */
  unavailable?: string
  /** Its stored offset does not fit the log: not consumed, never written by a run. */
  mismatch?: OffsetMismatch
  /** The mismatch was found by this run: to be recorded in the item, so every later run sees it. */
  recordMismatch?: boolean
}

/** Where a partition starts, and why. */
export type StartDecision =
  /** Never consumed by this consumer: START_POSITION says where. */
  | { readonly kind: 'start-position'; readonly position: number; readonly mustSave: boolean }
  /** Nothing stored, and added to the topic after the consumer's first run: its first message. */
  | { readonly kind: 'new-partition'; readonly position: number }
  /** The stored offset + 1, inside the log. */
  | { readonly kind: 'stored'; readonly position: number }
  /** The stored offset + 1 was deleted by retention: the out-of-range policy decides. */
  | { readonly kind: 'deleted-by-retention'; readonly position: number }
  /** The stored offset does not fit the log: not consumed until `lkc reset`. */
  | { readonly kind: 'mismatch'; readonly position: number; readonly mismatch: OffsetMismatch }

/** What a partition's start is decided from. */
export interface StartInputs {
  /** Its stored item, if it has one. */
  readonly item: StoredOffset | undefined
  readonly marks: PartitionWatermarks | undefined
  /** Without an item: START_POSITION applies (see `isFirstRun`); otherwise it was added since. */
  readonly firstRun: boolean
  readonly startPosition: StartPosition
  /** START_POSITION=timestamp: the partition's first offset at or after the time (its end when none). */
  readonly offsetAtTime?: number
  /** The topic's id now; undefined when the cluster gives none. */
  readonly topicId?: string
  /** Some item of this consumer was saved for another topic id: the topic was re-created since. */
  readonly recreated: boolean
}

export function decideStart(inputs: StartInputs): StartDecision {
  const { item, marks } = inputs
  const logStartOffset = marks?.logStartOffset ?? 0
  const endOffset = marks?.endOffset ?? 0
  if (item === undefined) {
    if (!inputs.firstRun) return { kind: 'new-partition', position: logStartOffset }
    const start = inputs.startPosition
    if (start === 'earliest') return { kind: 'start-position', position: logStartOffset, mustSave: false }
    // A `latest` or time start is saved even with nothing processed, or the next run would move it on.
    const position =
      start === 'latest'
        ? endOffset
        : Math.min(endOffset, Math.max(logStartOffset, inputs.offsetAtTime ?? endOffset))
    return { kind: 'start-position', position, mustSave: true }
  }
  const mismatch = mismatchOf(inputs, item, logStartOffset, endOffset)
  // Its lag is then the whole log: none of it is known to have been processed.
  if (mismatch !== undefined) return { kind: 'mismatch', position: logStartOffset, mismatch }
  const position = item.offset + 1
  if (position < logStartOffset) return { kind: 'deleted-by-retention', position }
  return { kind: 'stored', position }
}

/**
 * A recorded mismatch stays one, even once the log has grown past the offset: resuming there
 * would skip what the log holds below it. Otherwise: an offset saved for another topic id
 * (or, without an id of its own, beside items saved for another), or past the log's end.
 */
function mismatchOf(
  inputs: StartInputs,
  item: StoredOffset,
  logStartOffset: number,
  logEndOffset: number,
): OffsetMismatch | undefined {
  const { topicId } = inputs
  const seen = {
    storedOffset: item.offset,
    logStartOffset,
    logEndOffset,
    ...(topicId !== undefined && { topicId }),
    ...(item.topicId !== undefined && { storedTopicId: item.topicId }),
  }
  if (item.mismatch !== undefined) {
    return { ...seen, reason: item.mismatch.reason, foundAt: item.mismatch.foundAt }
  }
  const otherTopic =
    topicId !== undefined && (item.topicId === undefined ? inputs.recreated : item.topicId !== topicId)
  if (otherTopic) return { ...seen, reason: 'topic-id' }
  if (item.offset + 1 > logEndOffset) return { ...seen, reason: 'beyond-end' }
  return undefined
}

/**
 * Whether START_POSITION applies to a partition without a stored offset. The consumer's start
 * record says how many partitions the topic had at the consumer's first run: one numbered below
 * that has no offset because its first run has not saved one yet (another shard wrote the
 * record, or this shard's first run did not get that far), one at or above it was added to the
 * topic since, and starts at its first message. Without a record: the first run when nothing is
 * stored at all; otherwise the items predate the record (the Python design's, or an earlier
 * version's), and a partition without one was added since.
 */
export function isFirstRun(partition: number, stored: StoredOffsets): boolean {
  if (stored.start !== undefined) return partition < stored.start.partitionCount
  return stored.size === 0
}

/** Whether some stored offset was saved for another topic of this name: the topic was re-created since. */
export function isRecreated(stored: StoredOffsets, topicId: string | undefined): boolean {
  if (topicId === undefined) return false
  for (const item of stored.values()) if (item.topicId !== undefined && item.topicId !== topicId) return true
  return false
}

/** What the state needs from the run: where to log, what to count, and the policies. */
export interface PartitionStateContext {
  readonly topic: string
  readonly outOfRangePolicy: OutOfRangePolicy
  readonly logger: Logger
  readonly metrics: Metrics
  /** Partitions already reported as left out in this run: each is counted and logged once. */
  readonly leftOut: Set<number>
}

/** A partition's state at the start of the run, its start decided (and logged when it is not the usual one). */
export function initialState(
  partition: number,
  inputs: StartInputs,
  context: PartitionStateContext,
): PartitionState {
  const decision = decideStart(inputs)
  const { item, marks } = inputs
  const state: PartitionState = {
    partition,
    stored: item?.offset,
    ...(item !== undefined && { item }),
    position: decision.position,
    fromOffset: 0,
    endOffset: marks?.endOffset ?? 0,
    count: 0,
    deadLettered: 0,
    filtered: 0,
    halted: false,
    conflicted: false,
    mustSave: decision.kind === 'start-position' && decision.mustSave,
  }
  const where = { topic: context.topic, partition }
  switch (decision.kind) {
    case 'new-partition':
      context.logger.info('New partition: starting at its first message', where)
      break
    case 'deleted-by-retention':
      resolveOutOfRange(state, marks, 'at the start', context)
      break
    case 'mismatch':
      stopForMismatch(state, decision.mismatch, context)
      break
  }
  state.fromOffset = state.position
  return state
}

/**
 * The partition is not consumed, this run or any later one, until `lkc reset`: the invocation
 * fails (StoredOffsetMismatchError) and the `StoredOffsetMismatch` metric counts it every run.
 * Found now, it is logged with both offsets and the fix, and recorded in its item.
 */
function stopForMismatch(
  state: PartitionState,
  mismatch: OffsetMismatch,
  context: PartitionStateContext,
): void {
  state.halted = true
  state.mismatch = mismatch
  context.metrics.count('StoredOffsetMismatch', 1)
  if (mismatch.foundAt !== undefined) return
  state.recordMismatch = true
  context.logger.error(
    "Stored offset does not fit the partition's log; the partition is not consumed until `lkc reset`",
    {
      topic: context.topic,
      partition: state.partition,
      storedOffset: mismatch.storedOffset,
      logStartOffset: mismatch.logStartOffset,
      logEndOffset: mismatch.logEndOffset,
      ...(mismatch.storedTopicId !== undefined && { storedTopicId: mismatch.storedTopicId }),
      ...(mismatch.topicId !== undefined && { topicId: mismatch.topicId }),
      cause: mismatchCause(mismatch),
      fix: mismatchFix(state.partition),
    },
  )
}

/**
 * The next offset left the log (retention): resume per the policy, with a warning and a
 * metric; with `fail`, the partition stops with an `OffsetOutOfRangeError` as its failure.
 */
export function resolveOutOfRange(
  state: PartitionState,
  marks: PartitionWatermarks | undefined,
  when: string,
  context: PartitionStateContext,
): void {
  const { topic, logger, metrics } = context
  const policy = context.outOfRangePolicy
  const logStartOffset = marks?.logStartOffset
  if (logStartOffset === undefined || state.position >= logStartOffset) {
    logger.warn('Offset is out of range and not behind the log start; leaving the partition for this run', {
      topic,
      partition: state.partition,
      position: state.position,
    })
    state.halted = true
    return
  }
  const lost = logStartOffset - state.position
  metrics.count('OffsetOutOfRange', 1)
  const details = {
    topic,
    partition: state.partition,
    ...(state.stored !== undefined && { storedOffset: state.stored }),
    position: state.position,
    logStartOffset,
    endOffset: marks?.endOffset,
    offsetsLostToRetention: lost,
    policy,
  }
  if (policy === 'fail') {
    const error = new OffsetOutOfRangeError(topic, state.partition, state.position, logStartOffset)
    state.halted = true
    state.failure = { partition: state.partition, offset: state.position, reason: error.message, error }
    logger.error(`Offset was deleted by retention ${when}; the partition stops (policy fail)`, details)
    return
  }
  const resumeAt = policy === 'earliest' ? logStartOffset : (marks?.endOffset ?? logStartOffset)
  logger.warn(
    `Offset was deleted by retention ${when}; resuming at the log ${policy === 'earliest' ? 'start' : 'end'}`,
    { ...details, resumeAt },
  )
  metrics.count('OffsetsLostToRetention', lost)
  state.position = resumeAt
  state.mustSave = true
}

/** A partition whose offsets could not be listed at the start: left out, where its stored offset says. */
export function unavailableState(
  partition: number,
  stored: number | undefined,
  reason: string,
  context: PartitionStateContext,
): PartitionState {
  const position = stored === undefined ? 0 : stored + 1
  const state: PartitionState = {
    partition,
    stored,
    position,
    fromOffset: position,
    endOffset: position,
    count: 0,
    deadLettered: 0,
    filtered: 0,
    halted: true,
    conflicted: false,
    mustSave: false,
  }
  leaveOut(state, reason, context)
  return state
}

/**
 * A partition without a usable leader is left out of this run, not fatal: the others are
 * consumed, its stored offset stays, its messages wait for the next run. A warning naming it
 * and the cause, and the `PartitionsWithoutLeader` metric, once per partition and run.
 */
export function leaveOut(state: PartitionState, reason: string, context: PartitionStateContext): void {
  state.halted = true
  state.unavailable = reason
  if (context.leftOut.has(state.partition)) return
  context.leftOut.add(state.partition)
  context.metrics.count('PartitionsWithoutLeader', 1)
  context.logger.warn('Partition left out of this run: it has no leader, or its leader does not answer', {
    topic: context.topic,
    partition: state.partition,
    ...(state.stored !== undefined && { storedOffset: state.stored }),
    reason,
    fix: "bring back the brokers that hold the partition's replicas (a leader is then elected), or reassign its replicas; nothing is skipped: the next run tries it again",
  })
}

/**
 * What deciding the starts said (warnings, metrics), held back until the run knows it goes on
 * from this read: when the lease shows that the previous run saved after it, the offsets are
 * read again, and only that second read's warnings and counts may reach the logs and metrics.
 */
export class HeldReport implements Logger, Metrics {
  readonly #calls: Array<(logger: Logger, metrics: Metrics) => void> = []

  debug(message: string, attributes?: LogAttributes): void {
    this.#calls.push((logger) => logger.debug(message, attributes))
  }
  info(message: string, attributes?: LogAttributes): void {
    this.#calls.push((logger) => logger.info(message, attributes))
  }
  warn(message: string, attributes?: LogAttributes): void {
    this.#calls.push((logger) => logger.warn(message, attributes))
  }
  error(message: string, attributes?: LogAttributes): void {
    this.#calls.push((logger) => logger.error(message, attributes))
  }
  count(name: string, value: number): void {
    this.#calls.push((_logger, metrics) => metrics.count(name, value))
  }
  measure(
    name: string,
    value: number,
    unit: 'Count' | 'Milliseconds',
    dimensions?: Readonly<Record<string, string>>,
  ): void {
    this.#calls.push((_logger, metrics) => metrics.measure(name, value, unit, dimensions))
  }

  /** Tells everything held, in order. */
  tell(logger: Logger, metrics: Metrics): void {
    for (const call of this.#calls.splice(0)) call(logger, metrics)
  }
}
