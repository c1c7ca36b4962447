/**
 * One invocation, as the seed's data flow draws it:
 *   read the stored offsets -> fetch from offset + 1 -> decode and process each message
 *   -> save the new offsets.
 * Pure logic: Kafka, DynamoDB and the logs are reached through the interfaces in `ports.ts`.
 *
 * Guarantees kept here:
 * - a partition never skips a message: a message that fails to decode or to process stops
 *   its partition just before it, and the next run starts there again;
 * - offsets only move forward, and only for partitions that moved;
 * - the run stops at `maxMessages`, at the end of every partition, or at the deadline,
 *   whichever comes first, and saves what it processed even when Kafka fails mid-way.
 */

import { messageOf } from '../errors.ts'
import { decodeMessage } from '../processing/decode.ts'
import type { KafkaMessage, Processor } from '../processing/message.ts'
import type {
  FetchedPartition,
  KafkaSource,
  Logger,
  OffsetStore,
  OffsetWrite,
  PartitionWatermarks,
} from './ports.ts'
import { ReadAhead, roundShare } from './read-ahead.ts'
import { ownedPartitions, type Shard } from './shards.ts'

export type StartPosition = 'earliest' | 'latest'

export interface CycleOptions {
  readonly topic: string
  readonly consumerId: string
  readonly maxMessages: number
  readonly startPosition: StartPosition
  /** Clock time (ms) after which no fetch and no new message starts. */
  readonly deadline: number
  /** Asked between messages: true stops the run as the deadline would (Ctrl-C in `lkc start`). */
  readonly shouldStop?: () => boolean
  /** Consume only this shard's partitions (SHARD_COUNT, SHARD_INDEX); default: all of them. */
  readonly shard?: Shard
}

export interface CycleDependencies {
  readonly source: KafkaSource
  readonly offsets: OffsetStore
  readonly processor: Processor
  readonly logger: Logger
  /** Milliseconds; `Date.now` unless a test drives time. */
  readonly clock?: () => number
}

export interface PartitionFailure {
  readonly partition: number
  readonly offset: number
  readonly reason: string
  readonly error: unknown
}

export interface PartitionSummary {
  readonly partition: number
  /** The first offset this run started from. */
  readonly fromOffset: number
  /** The stored offset after the run (the last offset processed); `null` if none is stored. */
  readonly toOffset: number | null
  readonly count: number
  /** Messages left after the run, as far as the run knows. */
  readonly lag: number
  readonly failure?: { readonly offset: number; readonly reason: string }
}

export type StopReason = 'caught-up' | 'max-messages' | 'deadline' | 'stopped' | 'kafka-error'

export interface CycleSummary {
  readonly consumerId: string
  readonly topic: string
  readonly partitions: readonly PartitionSummary[]
  readonly count: number
  readonly stopReason: StopReason
  readonly failures: readonly PartitionFailure[]
  readonly conflicts: ReadonlyArray<{ readonly partition: number; readonly current: number | undefined }>
  readonly offsetsWritten: number
  readonly durationMs: number
  /** The Kafka error that ended the run early, after what was processed had been saved. */
  readonly error?: unknown
}

interface PartitionState {
  readonly partition: number
  /** The offset in the table when the run started (or after its last save). */
  stored: number | undefined
  /** The next offset to fetch; everything before it has been processed or skipped on purpose. */
  position: number
  readonly fromOffset: number
  endOffset: number
  count: number
  /** Stopped: a failed message, or an offset the run cannot resolve on its own. */
  halted: boolean
  failure?: PartitionFailure
  /** Write even if nothing was processed: a `latest` start must be remembered, or the next run would skip ahead again. */
  mustSave: boolean
}

/** Rounds in a row without progress before the run gives up waiting on the broker. */
const MAX_IDLE_ROUNDS = 3

export async function runCycle(deps: CycleDependencies, options: CycleOptions): Promise<CycleSummary> {
  const { source, offsets, logger } = deps
  const clock = deps.clock ?? Date.now
  const startedAt = clock()
  const { topic } = options

  const [stored, topicPartitions] = await Promise.all([offsets.read(), source.partitions(topic)])
  const partitions = ownedPartitions(topicPartitions, options.shard)
  if (partitions.length === 0) {
    logger.warn("This shard owns none of the topic's partitions; nothing to consume", {
      topic,
      partitions: topicPartitions.length,
      shardCount: options.shard?.count,
      shardIndex: options.shard?.index,
      fix: 'use at most as many shards as the topic has partitions',
    })
  }
  const watermarks =
    partitions.length > 0
      ? await source.watermarks(topic, partitions)
      : new Map<number, PartitionWatermarks>()
  const states = partitions.map((partition) =>
    initialState(partition, stored.get(partition)?.offset, watermarks.get(partition), options, logger),
  )

  let count = 0
  let stopReason: StopReason = 'caught-up'
  let kafkaError: unknown
  let idleRounds = 0
  let round = 0
  const failures: PartitionFailure[] = []
  const stopRequested = () => clock() >= options.deadline || options.shouldStop?.() === true
  // The next round is fetched while this one is processed (see read-ahead.ts).
  const readAhead = new ReadAhead(source, topic, { shouldStop: stopRequested })

  try {
    for (;;) {
      const active = states.filter((state) => !state.halted && state.position < state.endOffset)
      if (active.length === 0) break
      if (count >= options.maxMessages) {
        stopReason = 'max-messages'
        break
      }
      if (stopRequested()) {
        stopReason = clock() >= options.deadline ? 'deadline' : 'stopped'
        break
      }
      // Rotate the request order so no partition is always last in a size-limited response.
      const shift = round++ % active.length
      const ordered = [...active.slice(shift), ...active.slice(0, shift)]
      const requests = ordered.map((state) => ({ partition: state.partition, fetchOffset: state.position }))
      const remaining = options.maxMessages - count
      const fetched = await readAhead.fetch(requests, { messages: remaining })
      const byPartition = new Map(fetched.map((response) => [response.partition, response]))
      const share = roundShare(remaining, requests, fetched)
      let progressed = false
      for (const state of ordered) {
        const response = byPartition.get(state.partition)
        if (response === undefined) continue
        const before = state.position
        const budget = Math.min(share, options.maxMessages - count)
        const processed = await consumePartition(state, response, budget, deps, options, stopRequested)
        count += processed
        if (state.failure !== undefined) failures.push(state.failure)
        if (state.position !== before || state.halted) progressed = true
        if (stopRequested()) break
      }
      idleRounds = progressed ? 0 : idleRounds + 1
      if (idleRounds >= MAX_IDLE_ROUNDS) {
        logger.warn('Fetches returned nothing although the broker reports more messages; ending the run', {
          topic,
          partitions: active.map((state) => ({
            partition: state.partition,
            position: state.position,
            endOffset: state.endOffset,
          })),
        })
        break
      }
    }
  } catch (error) {
    // Kafka failed mid-run (a broker went away): keep what was processed, then report.
    kafkaError = error
    stopReason = 'kafka-error'
    logger.error('Kafka failed during the run; saving the offsets processed so far', {
      topic,
      error: messageOf(error),
    })
  }

  await readAhead.settle()
  const { conflicts, written } = await saveOffsets(states, offsets, logger, topic)
  const summary: CycleSummary = {
    consumerId: options.consumerId,
    topic,
    partitions: states.map((state) => ({
      partition: state.partition,
      fromOffset: state.fromOffset,
      toOffset: state.stored ?? null,
      count: state.count,
      lag: Math.max(0, state.endOffset - state.position),
      ...(state.failure && { failure: { offset: state.failure.offset, reason: state.failure.reason } }),
    })),
    count,
    stopReason,
    failures,
    conflicts,
    offsetsWritten: written,
    durationMs: clock() - startedAt,
    ...(kafkaError !== undefined && { error: kafkaError }),
  }
  return summary
}

function initialState(
  partition: number,
  stored: number | undefined,
  marks: PartitionWatermarks | undefined,
  options: CycleOptions,
  logger: Logger,
): PartitionState {
  const logStartOffset = marks?.logStartOffset ?? 0
  const endOffset = marks?.endOffset ?? 0
  const context = { topic: options.topic, partition }
  let position: number
  let halted = false
  // A `latest` start is saved even with nothing processed, or the next run would skip ahead again.
  let mustSave = false
  if (stored === undefined) {
    position = options.startPosition === 'earliest' ? logStartOffset : endOffset
    mustSave = options.startPosition === 'latest' && endOffset > logStartOffset
  } else {
    position = stored + 1
    if (position < logStartOffset) {
      logger.warn('Stored offset was deleted by retention; resuming at the log start', {
        ...context,
        storedOffset: stored,
        logStartOffset,
        offsetsLostToRetention: logStartOffset - position,
      })
      position = logStartOffset
    } else if (position > endOffset) {
      logger.warn(
        'Stored offset is beyond the end of the partition (was the topic recreated?); not consuming it',
        {
          ...context,
          storedOffset: stored,
          endOffset,
          fix: 'check the topic, then move the offset with `lkc reset`',
        },
      )
      halted = true
    }
  }
  return { partition, stored, position, fromOffset: position, endOffset, count: 0, halted, mustSave }
}

/** Decodes and processes one partition's share of a fetch response; returns how many messages it processed. */
async function consumePartition(
  state: PartitionState,
  response: FetchedPartition,
  budget: number,
  deps: CycleDependencies,
  options: CycleOptions,
  stopRequested: () => boolean,
): Promise<number> {
  const { topic } = options
  if (response.watermarks !== undefined) state.endOffset = response.watermarks.endOffset
  if (response.offsetOutOfRange) {
    resolveOutOfRange(state, response, topic, deps.logger)
    return 0
  }

  const records = response.records
  const take = Math.min(budget, records.length)
  const messages: KafkaMessage[] = []
  let failure: PartitionFailure | undefined
  for (let index = 0; index < take; index++) {
    const record = records[index]!
    try {
      messages.push(decodeMessage(topic, state.partition, record))
    } catch (error) {
      failure = { partition: state.partition, offset: record.offset, reason: messageOf(error), error }
      break
    }
  }

  let processed = 0
  const processor = deps.processor
  if (processor.processBatch !== undefined) {
    if (messages.length > 0 && !stopRequested()) {
      try {
        await processor.processBatch(messages)
        processed = messages.length
      } catch (error) {
        failure = { partition: state.partition, offset: messages[0]!.offset, reason: messageOf(error), error }
      }
    }
  } else {
    for (const message of messages) {
      if (stopRequested()) break
      try {
        await processor.process(message)
      } catch (error) {
        failure = { partition: state.partition, offset: message.offset, reason: messageOf(error), error }
        break
      }
      processed++
    }
  }

  state.count += processed
  if (processed > 0) state.position = messages[processed - 1]!.offset + 1
  const finishedResponse = failure === undefined && processed === records.length
  // Everything returned was processed: skip past trailing control markers and aborted records too.
  if (finishedResponse && response.lastOffset + 1 > state.position) state.position = response.lastOffset + 1
  if (failure !== undefined) {
    state.halted = true
    state.failure = failure
    deps.logger.error('Message failed; its partition stops before it until the cause is fixed', {
      topic,
      partition: failure.partition,
      offset: failure.offset,
      reason: failure.reason,
    })
  }
  return processed
}

function resolveOutOfRange(state: PartitionState, response: FetchedPartition, topic: string, logger: Logger) {
  const logStartOffset = response.watermarks?.logStartOffset
  if (logStartOffset !== undefined && state.position < logStartOffset) {
    logger.warn('Offset was deleted by retention during the run; resuming at the log start', {
      topic,
      partition: state.partition,
      position: state.position,
      logStartOffset,
      offsetsLostToRetention: logStartOffset - state.position,
    })
    state.position = logStartOffset
    state.mustSave = true
    return
  }
  logger.warn('Offset is out of range and not behind the log start; leaving the partition for this run', {
    topic,
    partition: state.partition,
    position: state.position,
  })
  state.halted = true
}

async function saveOffsets(
  states: PartitionState[],
  offsets: OffsetStore,
  logger: Logger,
  topic: string,
): Promise<{ conflicts: Array<{ partition: number; current: number | undefined }>; written: number }> {
  const writes: OffsetWrite[] = []
  for (const state of states) {
    const last = state.position - 1
    const moved =
      state.stored === undefined ? state.position > state.fromOffset || state.mustSave : last > state.stored
    if (moved) writes.push({ partition: state.partition, offset: last, expected: state.stored })
  }
  if (writes.length === 0) return { conflicts: [], written: 0 }
  const results = await offsets.save(writes)
  const conflicts: Array<{ partition: number; current: number | undefined }> = []
  for (const [index, result] of results.entries()) {
    const state = states.find((candidate) => candidate.partition === result.partition)!
    if (result.status === 'saved') {
      state.stored = writes[index]!.offset
    } else {
      conflicts.push({ partition: result.partition, current: result.current })
      logger.error('Offset changed by someone else since it was read; not overwritten', {
        topic,
        partition: result.partition,
        expected: state.stored,
        current: result.current,
        wanted: writes[index]!.offset,
      })
    }
  }
  return { conflicts, written: results.filter((result) => result.status === 'saved').length }
}
