/**
 * The metrics of one finished run, from its summary: what the dashboard and the alarms read.
 *   RunDuration (ms), MessagesFailed, RunSucceeded (1 when nothing failed), MaxOffsetLag,
 *   and OffsetLag per partition (dimension `partition`) when asked. A partition the run left
 *   out (no leader) has no known lag: it publishes no OffsetLag, and MaxOffsetLag is of the others.
 * Counters raised during the run (MessagesProcessed, MessagesDeadLettered, LeaseHeld,
 * ProcessingRetries, OffsetOutOfRange, ...) are counted by the cycle itself.
 */
import type { Metrics } from '../ports.ts'
import type { CycleSummary } from './types.ts'

export interface RunMetricsOptions {
  /** One metric per partition: what a per-partition lag graph needs; each is a custom metric billed monthly. */
  readonly partitionLag: boolean
}

export function recordRunMetrics(metrics: Metrics, summary: CycleSummary, options: RunMetricsOptions): void {
  metrics.measure('RunDuration', summary.durationMs, 'Milliseconds')
  if (summary.stopReason === 'lease-held') return
  const failed = summary.failures.length
  metrics.measure('MessagesFailed', failed, 'Count')
  metrics.measure(
    'RunSucceeded',
    failed === 0 && summary.conflicts.length === 0 && summary.error === undefined ? 1 : 0,
    'Count',
  )
  const known = summary.partitions.filter((partition) => partition.unavailable === undefined)
  metrics.measure('MaxOffsetLag', Math.max(0, ...known.map((partition) => partition.lag)), 'Count')
  if (options.partitionLag) {
    for (const partition of known) {
      metrics.measure('OffsetLag', partition.lag, 'Count', { partition: String(partition.partition) })
    }
  }
}
