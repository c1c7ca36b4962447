/**
 * The cycle's `Metrics` on Powertools Metrics: CloudWatch embedded metric format lines in the
 * function's logs (no API call), namespace `LambdaKafkaConsumer`, dimensions `service` and `topic`.
 * Counters are buffered during the invocation and published at its end; a measurement with
 * extra dimensions (the lag of one partition) is its own document, written when measured.
 *
 * CloudWatch bills every metric published as a custom metric ($0.30 a month each), so by default
 * only those that carry what AWS does not are published: the lag (`MaxOffsetLag`, every run) and
 * the events of lost, diverted or waiting data (`MessagesDeadLettered`, `OffsetOutOfRange`,
 * `OffsetsLostToRetention`, `StoredOffsetMismatch`, `PartitionsWithoutLeader`, only when they
 * happen, so billed only in those hours; the alarms read some of them). The rest
 * (processed and failed counts, duration, success, retries, lease skips) is in Lambda's free
 * metrics and the run summary line; `detailed` publishes it too.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics'
import type { Metrics } from '../ports.ts'

export const METRICS_NAMESPACE = 'LambdaKafkaConsumer'
/** The `service` dimension of every metric unless POWERTOOLS_SERVICE_NAME names the consumer. */
export const METRICS_SERVICE = 'kafka-consumer-lambda'

/** Published by default: what the alarms read and Lambda's own metrics cannot tell. */
export const ESSENTIAL_METRICS: ReadonlySet<string> = new Set([
  'MaxOffsetLag',
  'OffsetLag',
  'MessagesDeadLettered',
  'OffsetOutOfRange',
  'OffsetsLostToRetention',
  'StoredOffsetMismatch',
  'PartitionsWithoutLeader',
])

export interface PowertoolsMetricsOptions {
  /** The `service` dimension. @default METRICS_SERVICE */
  readonly serviceName?: string
  /** Publish every metric the cycle records, not only the essential ones. @default false */
  readonly detailed?: boolean
}

export function createPowertoolsMetrics(
  topic: string,
  options: PowertoolsMetricsOptions = {},
): Metrics & { publish(): void } {
  const metrics = new PowertoolsMetrics({
    namespace: METRICS_NAMESPACE,
    serviceName: options.serviceName ?? METRICS_SERVICE,
  })
  metrics.setDefaultDimensions({ topic })
  const wanted = (name: string) => options.detailed === true || ESSENTIAL_METRICS.has(name)
  // Publishing nothing would make Powertools warn; a run skipped for the lease records nothing essential.
  let stored = 0
  return {
    count(name, value) {
      if (!wanted(name)) return
      metrics.addMetric(name, MetricUnit.Count, value)
      stored++
    },
    measure(name, value, unit, dimensions) {
      if (!wanted(name)) return
      const metricUnit = unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count
      if (dimensions === undefined) {
        metrics.addMetric(name, metricUnit, value)
        stored++
        return
      }
      // Extra dimensions need their own metric document: emitted at once, beside the buffered ones.
      const single = metrics.singleMetric()
      single.addDimensions({ ...dimensions })
      single.addMetric(name, metricUnit, value)
    },
    publish() {
      if (stored === 0) return
      metrics.publishStoredMetrics()
      stored = 0
    },
  }
}
