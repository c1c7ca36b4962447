import { describe, expect, it } from 'vitest'
import {
  customMetricsOf,
  estimateMonthlyCost,
  formatCost,
  stackMonitoringOf,
  totalOf,
} from '../../../src/operations/cost-model.ts'

const everyMinute = {
  invocationsPerMonth: 43_200,
  durationMs: 100,
  memoryMb: 512,
  architecture: 'arm64' as const,
  readUnitsPerInvocation: 1,
  writeUnitsPerInvocation: 3,
  logBytesPerInvocation: 1024,
  schedule: 'scheduler' as const,
}

describe('estimateMonthlyCost', () => {
  it('prices Lambda by GB-second and request, per architecture', () => {
    const [arm] = estimateMonthlyCost(everyMinute)
    const [x86] = estimateMonthlyCost({ ...everyMinute, architecture: 'x86_64' })

    // 43,200 x 0.1 s x 0.5 GB = 2,160 GB-s; plus 0.0432 M requests x $0.20
    expect(arm!.monthlyUsd).toBeCloseTo(2160 * 0.0000133334 + 0.0432 * 0.2, 6)
    expect(x86!.monthlyUsd).toBeCloseTo(2160 * 0.0000166667 + 0.0432 * 0.2, 6)
    expect(arm!.usage).toContain('2,160 GB-s')
  })

  it('prices DynamoDB reads and writes on demand, and a classic rule at zero', () => {
    const lines = estimateMonthlyCost({ ...everyMinute, schedule: 'rule' })

    expect(lines[1]!.monthlyUsd).toBeCloseTo(0.0432 * 0.125 + 0.1296 * 0.625, 6)
    expect(lines[2]).toEqual({ service: 'EventBridge rule', usage: '43,200 events', monthlyUsd: 0 })
  })

  it("prices the stack's monitoring: custom metrics, the dashboard and the alarms", () => {
    const lines = estimateMonthlyCost({
      ...everyMinute,
      monitoring: { customMetrics: 8, dashboards: 1, alarmMetrics: 5 },
    })

    expect(lines.at(-1)).toEqual({
      service: 'CloudWatch metrics, dashboard, alarms',
      usage: '8 custom metrics, 1 dashboard, 5 alarm metrics',
      monthlyUsd: 8 * 0.3 + 3 + 5 * 0.1,
    })
  })

  it('counts the metrics the consumer publishes and the alarms the construct makes', () => {
    expect(customMetricsOf({ partitions: 3, partitionLag: false, detailed: false })).toBe(2)
    expect(customMetricsOf({ partitions: 3, partitionLag: true, detailed: true })).toBe(11)
    expect(stackMonitoringOf()).toEqual({ dashboards: 0, alarmMetrics: 8 })
    expect(stackMonitoringOf({ shards: 2, dashboard: true })).toEqual({ dashboards: 1, alarmMetrics: 12 })
  })

  it("stays within $1.50 a month with the alarms on, for the seed's workload when idle", () => {
    const lines = estimateMonthlyCost({
      ...everyMinute,
      durationMs: 8,
      readUnitsPerInvocation: 1,
      writeUnitsPerInvocation: 0,
      logBytesPerInvocation: 1700,
      monitoring: {
        customMetrics: customMetricsOf({ partitions: 3, partitionLag: false, detailed: false }),
        ...stackMonitoringOf(),
      },
    })
    expect(totalOf(lines)).toBeLessThanOrEqual(1.5)
    expect(totalOf(lines)).toBeGreaterThan(1)
  })

  it('adds the optional pieces only when asked, and totals every line', () => {
    const plain = estimateMonthlyCost(everyMinute)
    const full = estimateMonthlyCost({ ...everyMinute, secretsManager: true, customerManagedKey: true })

    expect(full.map((line) => line.service)).toEqual([
      ...plain.map((line) => line.service),
      'Secrets Manager',
      'KMS (customer-managed key)',
    ])
    expect(totalOf(full)).toBeCloseTo(
      full.reduce((sum, line) => sum + line.monthlyUsd, 0),
      10,
    )
    expect(formatCost(full).split('\n').at(-1)).toMatch(/^Total\s+\$\d+\.\d\d$/)
  })
})
