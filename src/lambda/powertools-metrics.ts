/**
 * The cycle's `Metrics` on Powertools Metrics: CloudWatch embedded metric format lines in the
 * function's logs (no API call), namespace `LambdaKafkaConsumer`, dimension `topic`.
 * Counters are buffered during the invocation and published at its end.
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
    publish() {
      metrics.publishStoredMetrics()
    },
  }
}
