/**
 * One partition's state during a run, and where it starts. The start is one decision
 * (`decideStart`), from the stored offset and the log's watermarks: START_POSITION on the
 * consumer's first run, the first message of a partition added since, the stored offset + 1,
 * or an offset the run cannot consume as it is (deleted by retention, or beyond the end of the
 * partition). An offset that retention deleted, at the start or found by a fetch during the
 * run, resumes per OFFSET_OUT_OF_RANGE_POLICY (`resolveOutOfRange`), with a warning that
 * says how many offsets were lost.
 */
import type { LogAttributes, Logger, Metrics, PartitionWatermarks } from '../ports.ts'
import type { PartitionFailure } from './deliver-records.ts'
import { OffsetOutOfRangeError } from './errors.ts'
import type { OutOfRangePolicy, StartPosition } from './types.ts'

export interface PartitionState {
  readonly partition: number
  /** The offset in the table when the run started (or after its last save). */
  stored: number | undefined
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
}

/** Where a partition starts, and why. */
export type StartDecision =
  /** Nothing stored, on the consumer's first run: START_POSITION says where. */
  | { readonly kind: 'start-position'; readonly position: number; readonly mustSave: boolean }
  /** Nothing stored although other partitions have offsets: added to the topic since; its first message. */
  | { readonly kind: 'new-partition'; readonly position: number }
  /** The stored offset + 1, inside the log. */
  | { readonly kind: 'stored'; readonly position: number }
  /** The stored offset + 1 was deleted by retention: the out-of-range policy decides. */
  | { readonly kind: 'deleted-by-retention'; readonly position: number }
  /** The stored offset is beyond the end of the partition (a recreated topic?): not consumed. */
  | { readonly kind: 'beyond-end'; readonly position: number }

/**
 * The start decision. `firstRun`: no partition of this consumer has an offset stored. A
 * partition without one on a later run was added to the topic since, and starts at its first
 * message whatever START_POSITION says, so nothing in it is missed.
 */
export function decideStart(
  stored: number | undefined,
  marks: PartitionWatermarks | undefined,
  firstRun: boolean,
  startPosition: StartPosition,
): StartDecision {
  const logStartOffset = marks?.logStartOffset ?? 0
  const endOffset = marks?.endOffset ?? 0
  if (stored === undefined) {
    if (!firstRun) return { kind: 'new-partition', position: logStartOffset }
    return startPosition === 'earliest'
      ? { kind: 'start-position', position: logStartOffset, mustSave: false }
      : // A `latest` start is saved even with nothing processed, or the next run would skip ahead again.
        { kind: 'start-position', position: endOffset, mustSave: true }
  }
  const position = stored + 1
  if (position < logStartOffset) return { kind: 'deleted-by-retention', position }
  if (position > endOffset) return { kind: 'beyond-end', position }
  return { kind: 'stored', position }
}

/** What the state needs from the run: where to log, what to count, and the policies. */
export interface PartitionStateContext {
  readonly topic: string
  readonly startPosition: StartPosition
  readonly outOfRangePolicy: OutOfRangePolicy
  readonly logger: Logger
  readonly metrics: Metrics
  /** Partitions already reported as left out in this run: each is counted and logged once. */
  readonly leftOut: Set<number>
}

/** A partition's state at the start of the run, its start decided (and logged when it is not the usual one). */
export function initialState(
  partition: number,
  stored: number | undefined,
  marks: PartitionWatermarks | undefined,
  firstRun: boolean,
  context: PartitionStateContext,
): PartitionState {
  const decision = decideStart(stored, marks, firstRun, context.startPosition)
  const state: PartitionState = {
    partition,
    stored,
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
    case 'beyond-end':
      context.logger.warn(
        'Stored offset is beyond the end of the partition (was the topic recreated?); not consuming it',
        {
          ...where,
          storedOffset: stored,
          endOffset: state.endOffset,
          fix: "if the topic was recreated, delete this partition's item from the offsets table: it then starts at its first message",
        },
      )
      state.halted = true
      break
  }
  state.fromOffset = state.position
  return state
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
