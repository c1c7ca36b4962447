import { describe, expect, it } from 'vitest'
import type { CycleSummary } from '../../../src/cycle/run-cycle.ts'
import { recordRunMetrics } from '../../../src/cycle/run-metrics.ts'
import { RecordingMetrics } from '../../support/fakes.ts'

const summary = (overrides: Partial<CycleSummary> = {}): CycleSummary =>
  ({
    consumerId: 'g_orders',
    topic: 'orders',
    partitions: [
      { partition: 0, fromOffset: 0, toOffset: 9, count: 10, lag: 5 },
      { partition: 1, fromOffset: 0, toOffset: 3, count: 4, lag: 40 },
    ],
    count: 14,
    stopReason: 'max-messages',
    failures: [],
    conflicts: [],
    offsetsWritten: 2,
    durationMs: 123,
    ...overrides,
  }) as CycleSummary

describe('recordRunMetrics', () => {
  it("records the duration, success, the largest lag and each partition's lag", () => {
    const metrics = new RecordingMetrics()

    recordRunMetrics(metrics, summary(), { partitionLag: true })

    expect(metrics.measurements).toEqual([
      { name: 'RunDuration', value: 123, unit: 'Milliseconds' },
      { name: 'MessagesFailed', value: 0, unit: 'Count' },
      { name: 'RunSucceeded', value: 1, unit: 'Count' },
      { name: 'MaxOffsetLag', value: 40, unit: 'Count' },
      { name: 'OffsetLag', value: 5, unit: 'Count', dimensions: { partition: '0' } },
      { name: 'OffsetLag', value: 40, unit: 'Count', dimensions: { partition: '1' } },
    ])
  })

  it('marks a run with failed messages as not succeeded, and can leave out per-partition lag', () => {
    const metrics = new RecordingMetrics()
    const failures = [{ partition: 1, offset: 4, reason: 'not JSON', error: new Error('x') }]

    recordRunMetrics(metrics, summary({ failures }), { partitionLag: false })

    expect(metrics.measurements.find((m) => m.name === 'MessagesFailed')?.value).toBe(1)
    expect(metrics.measurements.find((m) => m.name === 'RunSucceeded')?.value).toBe(0)
    expect(metrics.measurements.some((m) => m.name === 'OffsetLag')).toBe(false)
  })

  it('publishes no lag for a partition the run left out (no leader): its lag is unknown, not 0', () => {
    const metrics = new RecordingMetrics()
    const partitions = [
      { partition: 0, fromOffset: 0, toOffset: 9, count: 10, deadLettered: 0, lag: 5 },
      {
        partition: 1,
        fromOffset: 4,
        toOffset: 3,
        count: 0,
        deadLettered: 0,
        lag: 0,
        unavailable: 'no leader',
      },
    ]

    recordRunMetrics(metrics, summary({ partitions }), { partitionLag: true })

    expect(metrics.measurements.filter((m) => m.name.endsWith('OffsetLag'))).toEqual([
      { name: 'MaxOffsetLag', value: 5, unit: 'Count' },
      { name: 'OffsetLag', value: 5, unit: 'Count', dimensions: { partition: '0' } },
    ])
  })

  it('records only the duration of a run skipped because the lease was held', () => {
    const metrics = new RecordingMetrics()

    recordRunMetrics(metrics, summary({ stopReason: 'lease-held', partitions: [] }), { partitionLag: true })

    expect(metrics.measurements.map((m) => m.name)).toEqual(['RunDuration'])
  })
})
