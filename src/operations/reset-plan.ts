/**
 * Planning an offset reset: for each partition, where the next run starts now and where it
 * will start after the reset, and how many messages that replays or skips. A partition stopped
 * on a stored offset that does not fit its log (a re-created topic) has no next start: the reset
 * gives it one, and its effect is counted in the log it has now. Pure: the plan is shown to the
 * operator before anything is written.
 */
import type { OffsetMismatch } from '../cycle/types.ts'
import { LambdaKafkaConsumerError } from '../errors.ts'
import type { PartitionStatus } from './partition-status.ts'
import { textTable } from './text-table.ts'

/** `earliest`, `latest`, an offset (the next one to process), or a point in time. */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'timestamp'; readonly timestampMs: number; readonly text: string }

export class ResetTargetError extends LambdaKafkaConsumerError {}

export function parseResetTarget(text: string): ResetTarget {
  if (text === 'earliest' || text === 'latest') return { kind: text }
  if (/^\d+$/.test(text)) return { kind: 'offset', offset: Number(text) }
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const timestampMs = Date.parse(text)
    if (Number.isFinite(timestampMs)) return { kind: 'timestamp', timestampMs, text }
  }
  throw new ResetTargetError(
    `--to "${text}" is not a reset target: use earliest, latest, an offset (e.g. 1200: the next run starts there) ` +
      'or an ISO-8601 time (e.g. 2026-11-26T08:00:00Z: the first message at or after it).',
  )
}

export interface ResetStep {
  readonly partition: number
  /** The stored offset now (`null`: none stored). */
  readonly oldOffset: number | null
  /** The offset to store: the next run starts at `newOffset + 1`. */
  readonly newOffset: number
  /** Where the next run would have started (`null`: nowhere, it is stopped on a mismatch), and where it will start. */
  readonly nextBefore: number | null
  readonly nextAfter: number
  /** Positive: messages processed again (a stopped partition: the messages its log holds from `nextAfter`). */
  readonly replayed: number
  /** Positive: messages never processed. */
  readonly skipped: number
  /** The partition is stopped on this mismatch; the reset is what lets runs consume it again. */
  readonly mismatch?: OffsetMismatch
}

/**
 * `offsetsAtTime` gives, for a timestamp target, each partition's first offset at or after it
 * (the log end when there is none).
 */
export function planReset(
  rows: readonly PartitionStatus[],
  target: ResetTarget,
  offsetsAtTime: ReadonlyMap<number, number> = new Map(),
): ResetStep[] {
  return rows.map((row) => {
    if (row.unavailable !== undefined) {
      throw new ResetTargetError(
        `Partition ${row.partition} cannot be reset now: ${row.unavailable}, so its log offsets are unknown. ` +
          'Reset the other partitions one by one (--partition), or wait for its leader to be back.',
      )
    }
    let nextAfter: number
    switch (target.kind) {
      case 'earliest':
        nextAfter = row.logStartOffset
        break
      case 'latest':
        nextAfter = row.logEndOffset
        break
      case 'offset':
        if (target.offset < row.logStartOffset || target.offset > row.logEndOffset) {
          throw new ResetTargetError(
            `--to ${target.offset} is outside partition ${row.partition}'s log (${row.logStartOffset} to ${row.logEndOffset}); ` +
              'pick an offset in that range, or use --partition to reset one partition.',
          )
        }
        nextAfter = target.offset
        break
      case 'timestamp':
        nextAfter = Math.min(
          row.logEndOffset,
          Math.max(row.logStartOffset, offsetsAtTime.get(row.partition) ?? row.logEndOffset),
        )
        break
    }
    const step = {
      partition: row.partition,
      oldOffset: row.storedOffset,
      newOffset: nextAfter - 1,
      nextAfter,
    }
    if (row.mismatch !== undefined) {
      // Nothing of this log is known to be processed: what it holds from the new start is to be, what is before it is skipped.
      return {
        ...step,
        nextBefore: null,
        replayed: row.logEndOffset - nextAfter,
        skipped: nextAfter - row.logStartOffset,
        mismatch: row.mismatch,
      }
    }
    const nextBefore = row.nextOffset ?? row.logEndOffset - row.lag
    return {
      ...step,
      nextBefore,
      replayed: Math.max(0, nextBefore - nextAfter),
      skipped: Math.max(0, nextAfter - nextBefore),
    }
  })
}

/** The steps that write: every one that changes the offset, and every stopped partition (its mark is cleared). */
export function changesOf(steps: readonly ResetStep[]): ResetStep[] {
  return steps.filter((step) => step.newOffset !== step.oldOffset || step.mismatch !== undefined)
}

export function formatPlan(steps: readonly ResetStep[]): string {
  const header = ['partition', 'stored now', 'stored after', 'next run starts at', 'effect']
  const body = steps.map((step) => [
    String(step.partition),
    step.oldOffset === null ? '-' : String(step.oldOffset),
    String(step.newOffset),
    `${step.nextBefore ?? 'stopped'} -> ${step.nextAfter}`,
    effectOf(step),
  ])
  return textTable(header, body)
}

function effectOf(step: ResetStep): string {
  if (step.mismatch !== undefined) {
    const log = step.mismatch.reason === 'topic-id' ? 'the re-created topic' : 'its log'
    const skips = step.skipped > 0 ? `; SKIPS the ${step.skipped} before it` : ''
    return `consumed from here: ${step.replayed} message(s) of ${log} to process${skips}`
  }
  if (step.replayed > 0) return `replays ${step.replayed} message(s)`
  if (step.skipped > 0) return `SKIPS ${step.skipped} message(s)`
  return 'no change'
}
