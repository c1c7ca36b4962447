/** The dashboard and alarms the construct builds, by property. */
import { describe, expect, it } from 'vitest'
import { InvalidConstructPropError } from '../../infra/errors.ts'
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

  it('builds a dashboard with messages, lag per partition, errors, dead letters and duration against the timeout', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardName: string; DashboardBody: unknown }
    }>
    const body = JSON.stringify(dashboard!.Properties.DashboardBody)

    expect(dashboard!.Properties.DashboardName).toBe('kafka-consumer-lambda')
    for (const title of [
      'Messages per minute',
      'Lag per partition',
      'Errors',
      'Dead letters',
      'Duration against the timeout (ms)',
    ]) {
      expect(body).toContain(title)
    }
    expect(body).toContain('MetricName=\\\\\\"OffsetLag\\\\\\"')
    expect(body).toContain('\\"value\\":300000,\\"label\\":\\"timeout\\"')
    expect(body).toContain('MessagesDeadLettered')
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
    expect(alarmWith(alarms, 'No run finished without a failure for 10 minutes').Properties).toMatchObject({
      MetricName: 'RunSucceeded',
      Period: 600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    })
    expect(alarms).toHaveLength(5)
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
