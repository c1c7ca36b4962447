/**
 * The cycle's `Metrics` on Powertools Metrics: CloudWatch embedded metric format lines in the
 * function's logs (no API call), namespace `LambdaKafkaConsumer`, dimension `topic`.
 * Counters are buffered during the invocation and published at its end; a measurement with
 * extra dimensions (the lag of one partition) is its own document, written when measured.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics'
import type { Metrics } from '../ports.ts'

export const METRICS_NAMESPACE = 'LambdaKafkaConsumer'
/** The `service` dimension of every metric (the dashboard and alarms select on it). */
export const METRICS_SERVICE = 'kafka-consumer-lambda'

export function createPowertoolsMetrics(
  topic: string,
  serviceName = METRICS_SERVICE,
): Metrics & { publish(): void } {
  const metrics = new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName })
  metrics.setDefaultDimensions({ topic })
  return {
    count(name, value) {
      metrics.addMetric(name, MetricUnit.Count, value)
    },
    measure(name, value, unit, dimensions) {
      const metricUnit = unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.Count
      if (dimensions === undefined) {
        metrics.addMetric(name, metricUnit, value)
        return
      }
      // Extra dimensions need their own metric document: emitted at once, beside the buffered ones.
      const single = metrics.singleMetric()
      single.addDimensions({ ...dimensions })
      single.addMetric(name, metricUnit, value)
    },
    publish() {
      metrics.publishStoredMetrics()
    },
  }
}
