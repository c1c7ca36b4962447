/** The alarms (and the optional dashboard) the construct builds, by property, and what they cost. */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import { describe, expect, it } from 'vitest'
import { InvalidConstructPropError } from '../../infra/errors.ts'
import type { ScheduledKafkaConsumerProps } from '../../infra/scheduled-kafka-consumer.ts'
import { stackMonitoringOf } from '../../src/operations/cost-model.ts'
import { synthesize } from './support.ts'

type Alarm = { Properties: Record<string, unknown> }

function alarmsOf(template: ReturnType<typeof synthesize>['template']): Alarm[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[]
}

function alarmWith(alarms: Alarm[], text: string): Alarm {
  const alarm = alarms.find((candidate) => String(candidate.Properties.AlarmDescription).includes(text))
  if (!alarm) throw new Error(`no alarm about "${text}"`)
  return alarm
}

describe('monitoring', () => {
  const { template } = synthesize()
  const alarms = alarmsOf(template)

  it("builds no dashboard by default ($3.00 a month), and one on request, on Lambda's metrics and the lag", () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0)
    const withDashboard = synthesize({
      monitoring: { dashboard: true, dashboardName: 'orders', partitionLagMetrics: true },
    }).template
    const [dashboard] = Object.values(withDashboard.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardName: string; DashboardBody: unknown }
    }>
    const body = JSON.stringify(dashboard!.Properties.DashboardBody)

    expect(dashboard!.Properties.DashboardName).toBe('orders')
    for (const title of [
      'Invocations, errors and throttles per minute',
      'Lag (messages not yet processed)',
      'Dead letters',
      'Duration against the timeout (ms)',
    ]) {
      expect(body).toContain(title)
    }
    expect(body).toContain('MetricName=\\\\\\"OffsetLag\\\\\\"')
    expect(body).toContain('\\"value\\":300000,\\"label\\":\\"timeout\\"')
    expect(body).toContain('MessagesDeadLettered')
    expect(body).not.toContain('MessagesProcessed')
  })

  it("reads four custom metrics (lag, dead letters, offset mismatches, leaderless partitions); the rest is Lambda's own, free", () => {
    const customMetrics = new Set(
      alarms.flatMap((alarm) => {
        const text = JSON.stringify(alarm.Properties)
        return [
          ...text.matchAll(
            /"MetricName":"(\w+)","Namespace":"LambdaKafkaConsumer"|"Namespace":"LambdaKafkaConsumer"[^}]*?"MetricName":"(\w+)"/g,
          ),
        ].map((match) => match[1] ?? match[2])
      }),
    )
    expect([...customMetrics].sort()).toEqual([
      'MaxOffsetLag',
      'MessagesDeadLettered',
      'PartitionsWithoutLeader',
      'StoredOffsetMismatch',
    ])
  })

  it('costs what `lkc cost` says: as many alarm metrics as it counts, per shard', () => {
    const metricsIn = (alarm: Alarm) =>
      alarm.Properties.Metrics === undefined
        ? 1
        : (alarm.Properties.Metrics as Array<{ MetricStat?: unknown }>).filter((query) => query.MetricStat)
            .length
    expect(alarms.reduce((sum, alarm) => sum + metricsIn(alarm), 0)).toBe(stackMonitoringOf().alarmMetrics)
    const sharded = alarmsOf(synthesize({ shards: 2 }).template)
    expect(sharded.reduce((sum, alarm) => sum + metricsIn(alarm), 0)).toBe(
      stackMonitoringOf({ shards: 2 }).alarmMetrics,
    )
  })

  it('publishes the detailed or per-partition metrics only when asked', () => {
    const variables = (monitoring: ScheduledKafkaConsumerProps['monitoring']) => {
      const [fn] = Object.values(
        synthesize({ monitoring }).template.findResources('AWS::Lambda::Function'),
      ) as Array<{
        Properties: { Environment: { Variables: Record<string, unknown> } }
      }>
      return fn!.Properties.Environment.Variables
    }
    expect(variables({})).not.toHaveProperty('DETAILED_METRICS')
    expect(variables({ detailedMetrics: true, partitionLagMetrics: true })).toMatchObject({
      DETAILED_METRICS: 'true',
      PARTITION_LAG_METRICS: 'true',
    })
  })

  it('takes one more alarm on a custom metric of its own, notifying like the others', () => {
    const { stack } = synthesize({ monitoring: { alarmEmail: 'oncall@example.com' } })
    const monitoring = stack.consumer.monitoring!
    const extra = monitoring.addAlarm({
      id: 'SchemaErrorsAlarm',
      description: 'Messages did not match their schema.',
      metric: monitoring.metrics.custom('SchemaErrors', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    })
    expect(monitoring.alarms).toContain(extra)
    expect(monitoring.alarmsById.get('SchemaErrorsAlarm')).toBe(extra)
    expect(stack.resolve(extra.alarmArn)).toBeDefined()
  })

  it('alarms on any function error', () => {
    expect(alarmWith(alarms, 'failed an invocation').Properties).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    })
  })

  it('alarms when the largest lag grows for 10 minutes in a row', () => {
    const alarm = alarmWith(alarms, 'lag grew').Properties

    expect(alarm).toMatchObject({
      EvaluationPeriods: 10,
      DatapointsToAlarm: 10,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    })
    expect(JSON.stringify(alarm.Metrics)).toContain('DIFF(lag)')
    expect(JSON.stringify(alarm.Metrics)).toContain('MaxOffsetLag')
  })

  it('alarms on a dead letter, on duration above 80% of the timeout, and on no successful run for 10 minutes', () => {
    expect(alarmWith(alarms, 'dead-lettered').Properties).toMatchObject({
      MetricName: 'MessagesDeadLettered',
      Namespace: 'LambdaKafkaConsumer',
      // The dimensions the function's embedded metrics carry (src/lambda/powertools-metrics.ts).
      Dimensions: [
        { Name: 'service', Value: 'kafka-consumer-lambda' },
        { Name: 'topic', Value: 'orders' },
      ],
      Threshold: 1,
    })
    expect(alarmWith(alarms, '80% of the 300 s timeout').Properties).toMatchObject({
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: 240_000,
    })
    const noSuccess = alarmWith(alarms, 'No invocation succeeded for 10 minutes').Properties
    expect(noSuccess).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    })
    expect(JSON.stringify(noSuccess.Metrics)).toContain('invocations - errors')
    expect(JSON.stringify(noSuccess.Metrics)).toContain('"MetricName":"Invocations"')
    expect(JSON.stringify(noSuccess.Metrics)).toContain('"Period":600')
    expect(alarms).toHaveLength(7)
  })

  it('alarms at once on a stored offset that does not fit its log (a re-created topic)', () => {
    expect(alarmWith(alarms, 'stored offset does not fit its log').Properties).toMatchObject({
      MetricName: 'StoredOffsetMismatch',
      Namespace: 'LambdaKafkaConsumer',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    })
    expect(String(alarmWith(alarms, 'stored offset does not fit').Properties.AlarmDescription)).toContain(
      'lkc reset',
    )
  })

  it('alarms on a partition without a leader in each of 5 consecutive minutes, not on a short election', () => {
    expect(alarmWith(alarms, 'had no leader').Properties).toMatchObject({
      MetricName: 'PartitionsWithoutLeader',
      Namespace: 'LambdaKafkaConsumer',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Period: 60,
      TreatMissingData: 'notBreaching',
    })
  })

  it('notifies nobody by default, and an e-mail topic when asked', () => {
    const withEmail = synthesize({ monitoring: { alarmEmail: 'oncall@example.com' } }).template

    expect(alarms.every((alarm) => alarm.Properties.AlarmActions === undefined)).toBe(true)
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    })
    for (const alarm of alarmsOf(withEmail)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmTopic/) }])
    }
  })

  it('can be turned off', () => {
    const { template: without } = synthesize({ monitoring: false })

    without.resourceCountIs('AWS::CloudWatch::Alarm', 0)
    without.resourceCountIs('AWS::CloudWatch::Dashboard', 0)
    // Nothing reads the metrics then: the function stops publishing them (they are billed).
    const [fn] = Object.values(without.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Environment: { Variables: Record<string, unknown> } }
    }>
    expect(fn!.Properties.Environment.Variables.PUBLISH_METRICS).toBe('false')
  })

  it('rejects a lag window that cannot work, naming the prop', () => {
    expect(() => synthesize({ monitoring: { lagRisingMinutes: 1 } })).toThrow(InvalidConstructPropError)
    expect(() => synthesize({ monitoring: { lagRisingMinutes: 1 } })).toThrow('lagRisingMinutes')
  })
})
