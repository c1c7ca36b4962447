import { describe, expect, it } from 'vitest'
import { decideStart, initialState, type PartitionStateContext } from '../../../src/cycle/partition-state.ts'
import { RecordingLogger, RecordingMetrics } from '../../support/fakes.ts'

const marks = { logStartOffset: 100, endOffset: 150 }

describe('decideStart', () => {
  it('starts a first run at START_POSITION: the log start, or the end (to be saved at once)', () => {
    expect(decideStart(undefined, marks, true, 'earliest')).toEqual({
      kind: 'start-position',
      position: 100,
      mustSave: false,
    })
    expect(decideStart(undefined, marks, true, 'latest')).toEqual({
      kind: 'start-position',
      position: 150,
      mustSave: true,
    })
  })

  it('starts a partition added since the last run at its first message, even with latest', () => {
    expect(decideStart(undefined, marks, false, 'latest')).toEqual({ kind: 'new-partition', position: 100 })
  })

  it('resumes after the stored offset, up to the end of the log included', () => {
    expect(decideStart(120, marks, false, 'earliest')).toEqual({ kind: 'stored', position: 121 })
    expect(decideStart(149, marks, false, 'earliest')).toEqual({ kind: 'stored', position: 150 })
    expect(decideStart(99, marks, false, 'earliest')).toEqual({ kind: 'stored', position: 100 })
  })

  it('tells an offset deleted by retention from one beyond the end of the partition', () => {
    expect(decideStart(89, marks, false, 'earliest')).toEqual({ kind: 'deleted-by-retention', position: 90 })
    expect(decideStart(150, marks, false, 'earliest')).toEqual({ kind: 'beyond-end', position: 151 })
  })
})

describe('initialState', () => {
  const context = (overrides: Partial<PartitionStateContext> = {}) => {
    const logger = new RecordingLogger()
    const metrics = new RecordingMetrics()
    const base: PartitionStateContext = {
      topic: 'orders',
      startPosition: 'earliest',
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

    const state = initialState(3, 89, marks, false, ctx)

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
    const state = initialState(3, 89, marks, false, context({ outOfRangePolicy: 'fail' }))

    expect(state.halted).toBe(true)
    expect(state.failure).toMatchObject({ partition: 3, offset: 90 })
    expect(state.failure?.reason).toContain('10 message(s) were deleted by retention')
  })

  it('leaves a partition whose stored offset is beyond its end, with the fix in the warning', () => {
    const ctx = context()

    const state = initialState(0, 500, marks, false, ctx)

    expect(state).toMatchObject({ halted: true, position: 501, stored: 500 })
    expect(ctx.logger.at('warn')[0]?.attributes?.fix).toContain('delete this partition')
  })
})
