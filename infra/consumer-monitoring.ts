/**
 * What an operator watches: a CloudWatch dashboard (messages per minute, lag per partition,
 * errors, dead letters, duration against the timeout) and alarms (function errors, lag rising,
 * a dead letter, duration near the timeout, no successful run), optionally notifying an SNS
 * topic. It reads the metrics the function writes in embedded metric format
 * (`src/cycle/run-metrics.ts`, namespace `LambdaKafkaConsumer`) and Lambda's own.
 */
import { Duration } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import { Construct } from 'constructs'
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../src/lambda/powertools-metrics.ts'
import { InvalidConstructPropError } from './errors.ts'

export interface ConsumerMonitoringOptions {
  /** @default - the function's name, `kafka-consumer-lambda` */
  readonly dashboardName?: string
  /** Alarm when the largest partition lag has grown in each of this many consecutive minutes. @default 10 */
  readonly lagRisingMinutes?: number
  /** Alarm when no run has finished without a failure for this long. @default 10 */
  readonly noSuccessfulRunMinutes?: number
  /** Alarm when an invocation took more than this share of the timeout. @default 80 */
  readonly durationAlarmPercent?: number
  /** Where alarms notify. @default - no notifications (alarms still show in the console) */
  readonly alarmTopic?: sns.ITopic
  /** Creates a topic with this e-mail address subscribed, when `alarmTopic` is not given. @default - none */
  readonly alarmEmail?: string
}

export interface ConsumerMonitoringProps extends ConsumerMonitoringOptions {
  /** Names the dashboard unless `dashboardName` does: the function's name. */
  readonly name: string
  readonly topic: string
  /** Every shard's function. */
  readonly functions: readonly lambda.IFunction[]
  readonly timeout: Duration
  readonly messageDeadLetterQueue?: sqs.IQueue
}

export class ConsumerMonitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard
  readonly errorsAlarm: cloudwatch.Alarm
  readonly lagRisingAlarm: cloudwatch.Alarm
  readonly deadLetterAlarm: cloudwatch.Alarm
  readonly durationAlarm: cloudwatch.Alarm
  readonly noSuccessfulRunAlarm: cloudwatch.Alarm
  /** The topic alarms notify, when one was given or created. */
  readonly alarmTopic?: sns.ITopic

  constructor(scope: Construct, id: string, props: ConsumerMonitoringProps) {
    super(scope, id)
    const lagRisingMinutes = props.lagRisingMinutes ?? 10
    const noSuccessfulRunMinutes = props.noSuccessfulRunMinutes ?? 10
    const durationAlarmPercent = props.durationAlarmPercent ?? 80
    if (!Number.isInteger(lagRisingMinutes) || lagRisingMinutes < 2 || lagRisingMinutes > 1440) {
      throw new InvalidConstructPropError(
        'lagRisingMinutes',
        lagRisingMinutes,
        'a whole number of minutes from 2 to 1440',
      )
    }
    if (
      !Number.isInteger(noSuccessfulRunMinutes) ||
      noSuccessfulRunMinutes < 2 ||
      noSuccessfulRunMinutes > 1440
    ) {
      throw new InvalidConstructPropError(
        'noSuccessfulRunMinutes',
        noSuccessfulRunMinutes,
        'a whole number of minutes from 2 to 1440',
      )
    }
    if (!(durationAlarmPercent > 0 && durationAlarmPercent <= 100)) {
      throw new InvalidConstructPropError(
        'durationAlarmPercent',
        durationAlarmPercent,
        'a percentage above 0, at most 100',
      )
    }
    const dimensions = { service: METRICS_SERVICE, topic: props.topic }
    const consumerMetric = (metricName: string, statistic: string, period = Duration.minutes(1)) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: dimensions,
        statistic,
        period,
      })
    // Lambda's own metrics, summed over the shards' functions.
    const acrossFunctions = (
      name: string,
      statistic: string,
      label: string,
      period = Duration.minutes(1),
    ) => {
      const metrics = props.functions.map((fn) => fn.metric(name, { statistic, period }))
      // Unlabelled when single: a label would make an alarm on it a metric-math alarm.
      if (metrics.length === 1) return metrics[0]!
      const prefix = name.toLowerCase()
      const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`${prefix}${index}`, metric]))
      const combine = statistic === 'Maximum' ? 'MAX' : 'SUM'
      return new cloudwatch.MathExpression({
        expression: `${combine}([${Object.keys(usingMetrics).join(',')}])`,
        usingMetrics,
        label,
        period,
      })
    }

    const processed = consumerMetric('MessagesProcessed', 'Sum').with({ label: 'processed' })
    const failed = consumerMetric('MessagesFailed', 'Sum').with({ label: 'failed (partition stopped)' })
    const deadLettered = consumerMetric('MessagesDeadLettered', 'Sum')
    const maxLag = consumerMetric('MaxOffsetLag', 'Maximum').with({ label: 'largest partition lag' })
    const succeeded = consumerMetric('RunSucceeded', 'Sum', Duration.minutes(noSuccessfulRunMinutes))
    const errors = acrossFunctions('Errors', 'Sum', 'function errors')
    const throttles = acrossFunctions('Throttles', 'Sum', 'throttles')
    const durationMax = acrossFunctions('Duration', 'Maximum', 'duration (max)')
    const timeoutMs = props.timeout.toMilliseconds()

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? props.name,
      defaultInterval: Duration.hours(3),
    })
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Messages per minute',
        left: [processed, failed, deadLettered.with({ label: 'dead-lettered' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lag per partition (messages not yet processed)',
        left: [
          new cloudwatch.MathExpression({
            // One line per partition, whatever their number: a search over the `partition` dimension.
            expression: `SEARCH('{${METRICS_NAMESPACE},partition,service,topic} MetricName="OffsetLag" service="${METRICS_SERVICE}" topic="${props.topic}"', 'Maximum', 60)`,
            label: 'partition',
            period: Duration.minutes(1),
          }),
          maxLag,
        ],
        width: 12,
      }),
    )
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: [
          errors,
          throttles,
          consumerMetric('LeaseHeld', 'Sum').with({ label: 'runs skipped (lease held)' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        left: [
          deadLettered.with({ label: 'dead-lettered' }),
          ...(props.messageDeadLetterQueue
            ? [
                props.messageDeadLetterQueue
                  .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })
                  .with({ label: 'waiting in the dead-letter queue' }),
              ]
            : []),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration against the timeout (ms)',
        left: [
          durationMax.with({ label: 'duration (max)' }),
          consumerMetric('RunDuration', 'Average').with({ label: 'run (average)' }),
        ],
        leftAnnotations: [
          { value: timeoutMs, label: 'timeout', color: '#d62728' },
          {
            value: (timeoutMs * durationAlarmPercent) / 100,
            label: `${durationAlarmPercent}% of the timeout`,
            color: '#ff7f0e',
          },
        ],
        width: 8,
      }),
    )

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'The Kafka consumer failed an invocation: a message failed, Kafka or DynamoDB failed. See the Run failed log line.',
      metric: errors,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.lagRisingAlarm = new cloudwatch.Alarm(this, 'LagRisingAlarm', {
      alarmDescription: `The largest partition lag grew in each of ${lagRisingMinutes} consecutive minutes: the consumer falls behind (runbook: lag rising).`,
      metric: new cloudwatch.MathExpression({
        expression: 'DIFF(lag)',
        usingMetrics: { lag: maxLag },
        label: 'lag change per minute',
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: lagRisingMinutes,
      datapointsToAlarm: lagRisingMinutes,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'A message was dead-lettered: inspect it in the dead-letter destination (runbook: a poison message).',
      metric: deadLettered,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.durationAlarm = new cloudwatch.Alarm(this, 'DurationAlarm', {
      alarmDescription: `An invocation took more than ${durationAlarmPercent}% of the ${props.timeout.toSeconds()} s timeout: lower MAX_MESSAGES, speed up the processor, or shard.`,
      metric: durationMax,
      threshold: (timeoutMs * durationAlarmPercent) / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    this.noSuccessfulRunAlarm = new cloudwatch.Alarm(this, 'NoSuccessfulRunAlarm', {
      alarmDescription: `No run finished without a failure for ${noSuccessfulRunMinutes} minutes: the schedule is off, every run fails, or the lease is stuck (runbook).`,
      metric: succeeded,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data at all is the worst case: nothing runs.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    })

    const topic =
      props.alarmTopic ??
      (props.alarmEmail === undefined
        ? undefined
        : (() => {
            const created = new sns.Topic(this, 'AlarmTopic', {
              displayName: 'Kafka consumer alarms',
              enforceSSL: true,
            })
            created.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail))
            return created
          })())
    if (topic) {
      this.alarmTopic = topic
      const action = new cloudwatchActions.SnsAction(topic)
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action)
        alarm.addOkAction(action)
      }
    }
  }

  get alarms(): cloudwatch.Alarm[] {
    return [
      this.errorsAlarm,
      this.lagRisingAlarm,
      this.deadLetterAlarm,
      this.durationAlarm,
      this.noSuccessfulRunAlarm,
    ]
  }
}
