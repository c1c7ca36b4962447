/**
 * What an operator watches, priced to be cheap: alarms (function errors, lag rising, a dead
 * letter, duration near the timeout, no successful run, a stored offset that does not fit its
 * log, a partition without a leader for minutes), optionally a dashboard and SNS notifications.
 * Built on Lambda's own metrics (free) wherever they suffice: errors, duration, throttles and
 * invocations; the function publishes only what AWS cannot know (the lag, dead letters, offset
 * mismatches, leaderless partitions; src/lambda/powertools-metrics.ts), each a custom metric at
 * $0.30 a month (the last three only in hours when they happen). The alarms are one table
 * (`alarmDefinitions`); another alarm is one more entry, or `addAlarm` from outside.
 */
import { Duration } from 'aws-cdk-lib'
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch'
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import { Construct } from 'constructs'
import { METRICS_NAMESPACE } from '../src/lambda/powertools-metrics.ts'
import { InvalidConstructPropError } from './errors.ts'

export interface ConsumerMonitoringOptions {
  /** A CloudWatch dashboard: $3.00 a month beyond an account's first three. @default false */
  readonly dashboard?: boolean
  /** @default - chosen by CloudFormation */
  readonly dashboardName?: string
  /** Alarm when the largest partition lag has grown in each of this many consecutive minutes. @default 10 */
  readonly lagRisingMinutes?: number
  /** Alarm when no invocation has succeeded for this long. @default 10 */
  readonly noSuccessfulRunMinutes?: number
  /** Alarm when an invocation took more than this share of the timeout. @default 80 */
  readonly durationAlarmPercent?: number
  /** Where alarms notify. @default - no notifications (alarms still show in the console) */
  readonly alarmTopic?: sns.ITopic
  /** Creates a topic with this e-mail address subscribed, when `alarmTopic` is not given. @default - none */
  readonly alarmEmail?: string
  /**
   * Also publish (and graph) the metrics Lambda's own ones or the run summary already carry:
   * processed and failed counts, duration, success, retries, lease skips (env `DETAILED_METRICS`).
   * Six more custom metrics, about $1.80 a month.
   * @default false
   */
  readonly detailedMetrics?: boolean
  /** Also publish the lag of each partition (env `PARTITION_LAG_METRICS`): $0.30 a month per partition. @default false */
  readonly partitionLagMetrics?: boolean
}

export interface ConsumerMonitoringProps extends ConsumerMonitoringOptions {
  /** The `service` dimension of the function's metrics (its POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string
  readonly topic: string
  /** Every shard's function. */
  readonly functions: readonly lambda.IFunction[]
  readonly timeout: Duration
  readonly messageDeadLetterQueue?: sqs.IQueue
}

/** The metrics the alarms and the dashboard read: the consumer's custom ones and Lambda's. */
export class ConsumerMetrics {
  private readonly props: ConsumerMonitoringProps

  constructor(props: ConsumerMonitoringProps) {
    this.props = props
  }

  /** A metric the function publishes (namespace `LambdaKafkaConsumer`, dimensions `service`, `topic`). */
  custom(metricName: string, statistic: string, period = Duration.minutes(1)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.props.serviceName, topic: this.props.topic },
      statistic,
      period,
    })
  }

  /** One of Lambda's own metrics (free), summed (or the maximum) over the shards' functions. */
  lambda(name: string, statistic: string, label: string, period = Duration.minutes(1)): cloudwatch.IMetric {
    const metrics = this.props.functions.map((fn) => fn.metric(name, { statistic, period }))
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
}

/** One alarm, as the table lists it. */
export interface ConsumerAlarmDefinition {
  /** The construct id, e.g. `ErrorsAlarm`. */
  readonly id: string
  readonly description: string
  readonly metric: cloudwatch.IMetric
  readonly threshold: number
  readonly comparisonOperator: cloudwatch.ComparisonOperator
  /** @default 1 */
  readonly evaluationPeriods?: number
  /** @default - evaluationPeriods */
  readonly datapointsToAlarm?: number
  /** @default NOT_BREACHING: no data means nothing happened */
  readonly treatMissingData?: cloudwatch.TreatMissingData
}

/** A partition without a leader this many minutes in a row alarms: a leader election takes seconds, a broker restart a minute or two. */
export const PARTITIONS_WITHOUT_LEADER_MINUTES = 5

interface Windows {
  readonly lagRisingMinutes: number
  readonly noSuccessfulRunMinutes: number
  readonly durationAlarmPercent: number
}

/** The alarms, one entry each. */
export function alarmDefinitions(
  metrics: ConsumerMetrics,
  props: ConsumerMonitoringProps,
  windows: Windows,
): ConsumerAlarmDefinition[] {
  const timeoutMs = props.timeout.toMilliseconds()
  const noSuccessPeriod = Duration.minutes(windows.noSuccessfulRunMinutes)
  return [
    {
      id: 'ErrorsAlarm',
      description:
        'The Kafka consumer failed an invocation: a message failed, Kafka or DynamoDB failed. See the Run failed log line.',
      metric: metrics.lambda('Errors', 'Sum', 'function errors'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    },
    {
      id: 'LagRisingAlarm',
      description: `The largest partition lag grew in each of ${windows.lagRisingMinutes} consecutive minutes: the consumer falls behind (runbook: lag rising).`,
      metric: new cloudwatch.MathExpression({
        expression: 'DIFF(lag)',
        usingMetrics: { lag: metrics.custom('MaxOffsetLag', 'Maximum') },
        label: 'lag change per minute',
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: windows.lagRisingMinutes,
    },
    {
      id: 'DeadLetterAlarm',
      description:
        'A message was dead-lettered: inspect it in the dead-letter destination (runbook: a poison message).',
      metric: metrics.custom('MessagesDeadLettered', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    },
    {
      id: 'DurationAlarm',
      description: `An invocation took more than ${windows.durationAlarmPercent}% of the ${props.timeout.toSeconds()} s timeout: lower MAX_MESSAGES, speed up the processor, or shard.`,
      metric: metrics.lambda('Duration', 'Maximum', 'duration (max)'),
      threshold: (timeoutMs * windows.durationAlarmPercent) / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
    {
      id: 'NoSuccessfulRunAlarm',
      description: `No invocation succeeded for ${windows.noSuccessfulRunMinutes} minutes: the schedule is off, every run fails, or the function is throttled (runbook).`,
      // Invocations that did not fail, from Lambda's own metrics; a run that finds the lease held counts as one.
      metric: new cloudwatch.MathExpression({
        expression: 'invocations - errors',
        usingMetrics: {
          invocations: metrics.lambda('Invocations', 'Sum', 'invocations', noSuccessPeriod),
          errors: metrics.lambda('Errors', 'Sum', 'errors', noSuccessPeriod),
        },
        label: 'successful invocations',
        period: noSuccessPeriod,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data at all is the worst case: nothing runs.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    },
    {
      id: 'StoredOffsetMismatchAlarm',
      description:
        "A partition's stored offset does not fit its log: the topic was deleted and created again (or migrated), or its log was truncated. That partition is not consumed, and every run fails, until an operator runs lkc reset (runbook: a re-created topic).",
      metric: metrics.custom('StoredOffsetMismatch', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    },
    {
      id: 'PartitionsWithoutLeaderAlarm',
      description: `A partition had no leader, or its leader did not answer, in each of ${PARTITIONS_WITHOUT_LEADER_MINUTES} consecutive minutes: its messages wait while the runs consume the others (runbook: a partition without a leader).`,
      metric: metrics.custom('PartitionsWithoutLeader', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: PARTITIONS_WITHOUT_LEADER_MINUTES,
    },
  ]
}

export class ConsumerMonitoring extends Construct {
  readonly metrics: ConsumerMetrics
  /** Every alarm, by its id (`ErrorsAlarm`, `LagRisingAlarm`, ...). */
  readonly alarmsById: ReadonlyMap<string, cloudwatch.Alarm>
  readonly dashboard?: cloudwatch.Dashboard
  /** The topic alarms notify, when one was given or created. */
  readonly alarmTopic?: sns.ITopic
  readonly #alarms = new Map<string, cloudwatch.Alarm>()
  readonly #action?: cloudwatchActions.SnsAction

  constructor(scope: Construct, id: string, props: ConsumerMonitoringProps) {
    super(scope, id)
    const windows: Windows = {
      lagRisingMinutes: minutes('lagRisingMinutes', props.lagRisingMinutes ?? 10),
      noSuccessfulRunMinutes: minutes('noSuccessfulRunMinutes', props.noSuccessfulRunMinutes ?? 10),
      durationAlarmPercent: props.durationAlarmPercent ?? 80,
    }
    if (!(windows.durationAlarmPercent > 0 && windows.durationAlarmPercent <= 100)) {
      throw new InvalidConstructPropError(
        'durationAlarmPercent',
        windows.durationAlarmPercent,
        'a percentage above 0, at most 100',
      )
    }
    this.metrics = new ConsumerMetrics(props)
    this.alarmsById = this.#alarms

    const topic =
      props.alarmTopic ?? (props.alarmEmail === undefined ? undefined : this.emailTopic(props.alarmEmail))
    if (topic) {
      this.alarmTopic = topic
      this.#action = new cloudwatchActions.SnsAction(topic)
    }
    for (const definition of alarmDefinitions(this.metrics, props, windows)) this.addAlarm(definition)
    if (props.dashboard === true) this.dashboard = buildDashboard(this, props, this.metrics, windows)
  }

  /** One more alarm, notifying the alarm topic like the others (e.g. on a custom metric of yours). */
  addAlarm(definition: ConsumerAlarmDefinition): cloudwatch.Alarm {
    const evaluationPeriods = definition.evaluationPeriods ?? 1
    const alarm = new cloudwatch.Alarm(this, definition.id, {
      alarmDescription: definition.description,
      metric: definition.metric,
      threshold: definition.threshold,
      comparisonOperator: definition.comparisonOperator,
      evaluationPeriods,
      datapointsToAlarm: definition.datapointsToAlarm ?? evaluationPeriods,
      treatMissingData: definition.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    })
    if (this.#action) {
      alarm.addAlarmAction(this.#action)
      alarm.addOkAction(this.#action)
    }
    this.#alarms.set(definition.id, alarm)
    return alarm
  }

  get alarms(): cloudwatch.Alarm[] {
    return [...this.#alarms.values()]
  }

  private emailTopic(address: string): sns.Topic {
    const created = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Kafka consumer alarms',
      enforceSSL: true,
    })
    created.addSubscription(new snsSubscriptions.EmailSubscription(address))
    return created
  }
}

function minutes(prop: string, value: number): number {
  if (!Number.isInteger(value) || value < 2 || value > 1440) {
    throw new InvalidConstructPropError(prop, value, 'a whole number of minutes from 2 to 1440')
  }
  return value
}

/** The optional dashboard: Lambda's metrics, the lag and dead letters, and the detailed ones when published. */
function buildDashboard(
  scope: Construct,
  props: ConsumerMonitoringProps,
  metrics: ConsumerMetrics,
  windows: Windows,
): cloudwatch.Dashboard {
  const timeoutMs = props.timeout.toMilliseconds()
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    ...(props.dashboardName !== undefined && { dashboardName: props.dashboardName }),
    defaultInterval: Duration.hours(3),
  })
  const maxLag = metrics.custom('MaxOffsetLag', 'Maximum').with({ label: 'largest partition lag' })
  const deadLettered = metrics.custom('MessagesDeadLettered', 'Sum').with({ label: 'dead-lettered' })
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Invocations, errors and throttles per minute',
      left: [
        metrics.lambda('Invocations', 'Sum', 'invocations'),
        metrics.lambda('Errors', 'Sum', 'function errors'),
        metrics.lambda('Throttles', 'Sum', 'throttles'),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Lag (messages not yet processed)',
      left: [
        ...(props.partitionLagMetrics
          ? [
              new cloudwatch.MathExpression({
                // One line per partition, whatever their number: a search over the `partition` dimension.
                expression: `SEARCH('{${METRICS_NAMESPACE},partition,service,topic} MetricName="OffsetLag" service="${props.serviceName}" topic="${props.topic}"', 'Maximum', 60)`,
                label: 'partition',
                period: Duration.minutes(1),
              }),
            ]
          : []),
        maxLag,
      ],
      width: 12,
    }),
  )
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Dead letters',
      left: [
        deadLettered,
        ...(props.messageDeadLetterQueue
          ? [
              props.messageDeadLetterQueue
                .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })
                .with({ label: 'waiting in the dead-letter queue' }),
            ]
          : []),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Duration against the timeout (ms)',
      left: [metrics.lambda('Duration', 'Maximum', 'duration (max)')],
      leftAnnotations: [
        { value: timeoutMs, label: 'timeout', color: '#d62728' },
        {
          value: (timeoutMs * windows.durationAlarmPercent) / 100,
          label: `${windows.durationAlarmPercent}% of the timeout`,
          color: '#ff7f0e',
        },
      ],
      width: 12,
    }),
  )
  if (props.detailedMetrics) {
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Messages per minute',
        left: [
          metrics.custom('MessagesProcessed', 'Sum').with({ label: 'processed' }),
          metrics.custom('MessagesFailed', 'Sum').with({ label: 'failed (partition stopped)' }),
          deadLettered,
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Retries and runs skipped',
        left: [
          metrics.custom('ProcessingRetries', 'Sum').with({ label: 'processing retries' }),
          metrics.custom('LeaseHeld', 'Sum').with({ label: 'runs skipped (lease held)' }),
        ],
        width: 12,
      }),
    )
  }
  return dashboard
}
