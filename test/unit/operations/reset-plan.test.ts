import { describe, expect, it } from 'vitest'
import type { PartitionStatus } from '../../../src/operations/partition-status.ts'
import {
  changesOf,
  formatPlan,
  parseResetTarget,
  planReset,
  ResetTargetError,
} from '../../../src/operations/reset-plan.ts'

const row = (
  partition: number,
  storedOffset: number | null,
  logStartOffset: number,
  logEndOffset: number,
): PartitionStatus => ({
  partition,
  storedOffset,
  logStartOffset,
  logEndOffset,
  lag: logEndOffset - (storedOffset === null ? logStartOffset : storedOffset + 1),
  nextOffset: storedOffset === null ? logStartOffset : storedOffset + 1,
  lastSaved: null,
})

describe('parseResetTarget', () => {
  it.each([
    ['earliest', { kind: 'earliest' }],
    ['latest', { kind: 'latest' }],
    ['1200', { kind: 'offset', offset: 1200 }],
    [
      '2026-11-26T08:00:00Z',
      { kind: 'timestamp', timestampMs: Date.UTC(2026, 10, 26, 8), text: '2026-11-26T08:00:00Z' },
    ],
  ])('reads %s', (text, target) => {
    expect(parseResetTarget(text)).toEqual(target)
  })

  it.each(['beginning', '-5', '2026-13-45', 'yesterday'])('rejects %s, saying what is allowed', (text) => {
    expect(() => parseResetTarget(text)).toThrow(ResetTargetError)
    expect(() => parseResetTarget(text)).toThrow('use earliest, latest, an offset')
  })
})

describe('planReset', () => {
  const rows = [row(0, 49, 10, 100), row(1, null, 0, 30)]

  it('to earliest replays what is still in the log', () => {
    expect(planReset(rows, { kind: 'earliest' })).toEqual([
      { partition: 0, oldOffset: 49, newOffset: 9, nextBefore: 50, nextAfter: 10, replayed: 40, skipped: 0 },
      { partition: 1, oldOffset: null, newOffset: -1, nextBefore: 0, nextAfter: 0, replayed: 0, skipped: 0 },
    ])
  })

  it('to latest skips what was not processed yet', () => {
    const [first, second] = planReset(rows, { kind: 'latest' })

    expect(first).toMatchObject({ newOffset: 99, nextAfter: 100, skipped: 50, replayed: 0 })
    expect(second).toMatchObject({ newOffset: 29, skipped: 30 })
  })

  it('to an offset makes the next run start there', () => {
    expect(planReset([rows[0]!], { kind: 'offset', offset: 20 })[0]).toMatchObject({
      newOffset: 19,
      replayed: 30,
    })
  })

  it('refuses an offset outside the log, naming the range', () => {
    expect(() => planReset([rows[0]!], { kind: 'offset', offset: 5 })).toThrow(
      "outside partition 0's log (10 to 100)",
    )
  })

  it('to a time starts at the first offset at or after it, clamped to the log', () => {
    const plan = planReset(
      rows,
      { kind: 'timestamp', timestampMs: 0, text: 'x' },
      new Map([
        [0, 70],
        [1, 999],
      ]),
    )

    expect(plan.map((step) => step.nextAfter)).toEqual([70, 30])
  })

  const recreated: PartitionStatus = {
    ...row(2, 49, 0, 10),
    lag: 10,
    nextOffset: null,
    mismatch: { reason: 'topic-id', storedOffset: 49, logStartOffset: 0, logEndOffset: 10 },
  }

  it('starts a partition stopped on a re-created topic at its first message, counting what the new log holds', () => {
    const [step] = planReset([recreated], { kind: 'earliest' })

    expect(step).toMatchObject({ oldOffset: 49, newOffset: -1, nextBefore: null, nextAfter: 0, replayed: 10 })
    expect(formatPlan([step!])).toMatch(
      /2\s+49\s+-1\s+stopped -> 0\s+consumed from here: 10 message\(s\) of the re-created topic to process/,
    )
  })

  it('says what --to latest skips of a re-created topic', () => {
    expect(formatPlan(planReset([recreated], { kind: 'latest' }))).toContain(
      'consumed from here: 0 message(s) of the re-created topic to process; SKIPS the 10 before it',
    )
  })

  it('writes a stopped partition even when its offset would not change (clearing the mark)', () => {
    const plan = planReset([row(0, 49, 10, 100)], { kind: 'offset', offset: 50 })
    const stoppedAtSame = planReset([{ ...recreated, logEndOffset: 60 }], { kind: 'offset', offset: 50 })

    expect(changesOf(plan)).toEqual([])
    expect(changesOf(stoppedAtSame).map((step) => [step.oldOffset, step.newOffset])).toEqual([[49, 49]])
  })

  it('formats the plan as a table that says what is skipped', () => {
    const text = formatPlan(planReset(rows, { kind: 'latest' }))

    expect(text).toContain('SKIPS 50 message(s)')
    expect(text.split('\n')[0]).toMatch(/partition\s+stored now\s+stored after\s+next run starts at\s+effect/)
  })
})
