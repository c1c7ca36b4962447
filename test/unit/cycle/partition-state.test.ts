import { describe, expect, it } from 'vitest'
import {
  decideStart,
  initialState,
  isFirstRun,
  isRecreated,
  type PartitionStateContext,
  type StartInputs,
} from '../../../src/cycle/partition-state.ts'
import type { StoredOffset } from '../../../src/ports.ts'
import { RecordingLogger, RecordingMetrics } from '../../support/fakes.ts'

const marks = { logStartOffset: 100, endOffset: 150 }
const ID = '5f1e6b2a-0c4d-4e8f-9a7b-3c2d1e0f9a8b'
const OTHER_ID = '0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d'

const inputs = (overrides: Partial<StartInputs> = {}): StartInputs => ({
  item: undefined,
  marks,
  firstRun: false,
  startPosition: 'earliest',
  topicId: ID,
  recreated: false,
  ...overrides,
})
const item = (offset: number, extra: Partial<StoredOffset> = {}): StoredOffset => ({ offset, ...extra })
const stored = (entries: Array<[number, StoredOffset]>, start?: { partitionCount: number }) => {
  const map = new Map(entries)
  return start === undefined ? map : Object.assign(map, { start })
}

describe('decideStart', () => {
  it('starts a first run at START_POSITION: the log start, the end, or the first offset at the time', () => {
    expect(decideStart(inputs({ firstRun: true }))).toEqual({
      kind: 'start-position',
      position: 100,
      mustSave: false,
    })
    expect(decideStart(inputs({ firstRun: true, startPosition: 'latest' }))).toEqual({
      kind: 'start-position',
      position: 150,
      mustSave: true,
    })
    expect(
      decideStart(inputs({ firstRun: true, startPosition: { timestampMs: 1 }, offsetAtTime: 120 })),
    ).toEqual({ kind: 'start-position', position: 120, mustSave: true })
  })

  it('keeps a time start inside the log, and at its end when nothing is as recent', () => {
    const at = (offsetAtTime: number | undefined) =>
      decideStart(
        inputs({
          firstRun: true,
          startPosition: { timestampMs: 1 },
          ...(offsetAtTime !== undefined && { offsetAtTime }),
        }),
      ).position
    expect([at(90), at(160), at(undefined)]).toEqual([100, 150, 150])
  })

  it('starts a partition added since the first run at its first message, even with latest', () => {
    expect(decideStart(inputs({ startPosition: 'latest' }))).toEqual({ kind: 'new-partition', position: 100 })
  })

  it('resumes after the stored offset, up to the end of the log included', () => {
    expect(decideStart(inputs({ item: item(120, { topicId: ID }) }))).toEqual({
      kind: 'stored',
      position: 121,
    })
    expect(decideStart(inputs({ item: item(149) }))).toEqual({ kind: 'stored', position: 150 })
    expect(decideStart(inputs({ item: item(99) }))).toEqual({ kind: 'stored', position: 100 })
  })

  it('tells an offset deleted by retention from one beyond the end of the log', () => {
    expect(decideStart(inputs({ item: item(89) }))).toEqual({ kind: 'deleted-by-retention', position: 90 })
    expect(decideStart(inputs({ item: item(150, { topicId: ID }) }))).toEqual({
      kind: 'mismatch',
      position: 100,
      mismatch: {
        reason: 'beyond-end',
        storedOffset: 150,
        logStartOffset: 100,
        logEndOffset: 150,
        topicId: ID,
        storedTopicId: ID,
      },
    })
  })

  it('refuses an offset saved for another topic id, even inside the log', () => {
    expect(decideStart(inputs({ item: item(120, { topicId: OTHER_ID }) }))).toMatchObject({
      kind: 'mismatch',
      mismatch: { reason: 'topic-id', storedOffset: 120, storedTopicId: OTHER_ID, topicId: ID },
    })
  })

  it('adopts an item without a topic id, unless other items were saved for another id', () => {
    expect(decideStart(inputs({ item: item(120) }))).toEqual({ kind: 'stored', position: 121 })
    expect(decideStart(inputs({ item: item(120), recreated: true }))).toMatchObject({
      kind: 'mismatch',
      mismatch: { reason: 'topic-id', storedOffset: 120 },
    })
  })

  it('keeps a recorded mismatch, even once the log has grown past the offset', () => {
    const recorded = { reason: 'beyond-end' as const, foundAt: '2026-12-01T10:00:00.000Z', logEndOffset: 10 }
    expect(decideStart(inputs({ item: item(120, { topicId: ID, mismatch: recorded }) }))).toMatchObject({
      kind: 'mismatch',
      mismatch: { reason: 'beyond-end', storedOffset: 120, foundAt: '2026-12-01T10:00:00.000Z' },
    })
  })

  it('without topic ids (an older cluster), tells a re-created topic only by an offset beyond the end', () => {
    expect(decideStart(inputs({ item: item(120, { topicId: OTHER_ID }), topicId: undefined }))).toEqual({
      kind: 'stored',
      position: 121,
    })
    expect(decideStart(inputs({ item: item(200), topicId: undefined }))).toMatchObject({
      kind: 'mismatch',
      mismatch: { reason: 'beyond-end' },
    })
  })
})

describe('isFirstRun', () => {
  it('is the first run of every partition when nothing is stored at all', () => {
    expect(isFirstRun(3, stored([]))).toBe(true)
  })

  it('with the start record: a partition the topic had then, not one added since', () => {
    const another = stored([[1, item(5)]], { partitionCount: 4 })
    expect([0, 2, 3, 4, 7].map((partition) => isFirstRun(partition, another))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
  })

  it("without it but with offsets (the Python design's table): a partition without one was added since", () => {
    expect(isFirstRun(2, stored([[0, item(5)]]))).toBe(false)
  })
})

describe('isRecreated', () => {
  it('is true when an item was saved for another topic id than the one now', () => {
    expect(isRecreated(stored([[0, item(5, { topicId: OTHER_ID })]]), ID)).toBe(true)
    expect(
      isRecreated(
        stored([
          [0, item(5, { topicId: ID })],
          [1, item(3)],
        ]),
        ID,
      ),
    ).toBe(false)
    expect(isRecreated(stored([[0, item(5, { topicId: OTHER_ID })]]), undefined)).toBe(false)
  })
})

describe('initialState', () => {
  const context = (overrides: Partial<PartitionStateContext> = {}) => {
    const logger = new RecordingLogger()
    const metrics = new RecordingMetrics()
    const base: PartitionStateContext = {
      topic: 'orders',
      outOfRangePolicy: 'earliest',
      logger,
      metrics,
      leftOut: new Set(),
      ...overrides,
    }
    return { ...base, logger, metrics }
  }

  it('resolves an offset deleted by retention per the policy, counting what was lost', () => {
    const ctx = context()

    const state = initialState(3, inputs({ item: item(89) }), ctx)

    expect(state).toMatchObject({
      partition: 3,
      position: 100,
      fromOffset: 100,
      mustSave: true,
      halted: false,
    })
    expect(ctx.metrics.counts.get('OffsetsLostToRetention')).toBe(10)
  })

  it('stops the partition with its failure under policy fail', () => {
    const state = initialState(3, inputs({ item: item(89) }), context({ outOfRangePolicy: 'fail' }))

    expect(state.halted).toBe(true)
    expect(state.failure).toMatchObject({ partition: 3, offset: 90 })
    expect(state.failure?.reason).toContain('10 message(s) were deleted by retention')
  })

  it('stops a partition whose offset is beyond the end, logging both offsets and the fix, to be recorded', () => {
    const ctx = context()

    const state = initialState(0, inputs({ item: item(500, { topicId: ID }) }), ctx)

    expect(state).toMatchObject({ halted: true, stored: 500, recordMismatch: true, mustSave: false })
    expect(state.mismatch).toMatchObject({ reason: 'beyond-end', storedOffset: 500, logEndOffset: 150 })
    expect(state.failure).toBeUndefined()
    expect(ctx.metrics.counts.get('StoredOffsetMismatch')).toBe(1)
    const [line] = ctx.logger.at('error')
    expect(line?.message).toContain('does not fit')
    expect(line?.attributes).toMatchObject({
      partition: 0,
      storedOffset: 500,
      logStartOffset: 100,
      logEndOffset: 150,
    })
    expect(line?.attributes?.cause).toContain('past the end of the log')
    expect(line?.attributes?.fix).toContain('lkc reset --to earliest --partition 0')
    expect(JSON.stringify(ctx.logger.entries)).not.toContain("delete this partition's item")
  })

  it('counts a mismatch an earlier run recorded every run, without logging it again', () => {
    const ctx = context()
    const recorded = { reason: 'topic-id' as const, foundAt: '2026-12-01T10:00:00.000Z', logEndOffset: 10 }

    const state = initialState(0, inputs({ item: item(49, { topicId: OTHER_ID, mismatch: recorded }) }), ctx)

    expect(state.halted).toBe(true)
    expect(state.recordMismatch).toBeUndefined()
    expect(ctx.metrics.counts.get('StoredOffsetMismatch')).toBe(1)
    expect(ctx.logger.entries).toEqual([])
  })
})
