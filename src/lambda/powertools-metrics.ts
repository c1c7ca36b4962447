/**
 * The cycle's `Metrics` on Powertools Metrics: CloudWatch embedded metric format lines in the
 * function's logs (no API call), namespace `LambdaKafkaConsumer`, dimension `topic`.
 * Counters are buffered during the invocation and published at its end; a measurement with
 * extra dimensions (the lag of one partition) is its own document, written when measured.
 */
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics'
import type { Metrics } from '../cycle/ports.ts'

export const METRICS_NAMESPACE = 'LambdaKafkaConsumer'

export function createPowertoolsMetrics(
  topic: string,
  serviceName = 'kafka-consumer-lambda',
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
