/**
 * What invokes a shard's function on its schedule: an EventBridge Scheduler schedule with its own
 * role, allowed to invoke this one function (no version or alias wildcard, which the L2 target
 * would grant) and to send to the dead-letter queue, assumable by Scheduler only on behalf of this
 * schedule; or, with `scheduleKind: 'rule'`, the seed's EventBridge rule, whose invoke permission
 * is scoped to the rule's ARN.
 */
import { Stack } from 'aws-cdk-lib'
import * as events from 'aws-cdk-lib/aws-events'
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import type { Construct } from 'constructs'
import { isUtc, type ResolvedProps } from './consumer-props.ts'

export interface ShardSchedule {
  /** The Scheduler schedule or the EventBridge rule. */
  readonly schedule: scheduler.CfnSchedule | events.Rule
  /** Its name (Scheduler needs it known before deployment, for its role's trust condition). */
  readonly name: string
}

export function scheduleShard(
  scope: Construct,
  id: string,
  name: string,
  fn: lambda.IFunction,
  props: ResolvedProps,
  deadLetterQueue: sqs.IQueue | undefined,
): ShardSchedule {
  if (props.scheduleKind === 'rule') {
    const rule = new events.Rule(scope, `${id}Rule`, {
      ruleName: name,
      description: `Invokes ${name} on its schedule (the seed's rule)`,
      schedule: events.Schedule.expression(props.schedule.expressionString),
      // The target adds lambda:InvokeFunction for events.amazonaws.com, scoped to this rule's ARN.
      targets: [
        new eventsTargets.LambdaFunction(fn, {
          retryAttempts: props.scheduleRetryAttempts,
          maxEventAge: props.scheduleMaxEventAge,
          ...(deadLetterQueue && { deadLetterQueue }),
        }),
      ],
    })
    return { schedule: rule, name }
  }
  const stack = Stack.of(scope)
  const scheduleArn = stack.formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `default/${name}`,
  })
  const role = new iam.Role(scope, `${id}ScheduleRole`, {
    description: `Lets EventBridge Scheduler invoke ${name}`,
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': scheduleArn } },
    }),
  })
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeConsumer',
      actions: ['lambda:InvokeFunction'],
      resources: [fn.functionArn],
    }),
  )
  if (deadLetterQueue) {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetters',
        actions: ['sqs:SendMessage'],
        resources: [deadLetterQueue.queueArn],
      }),
    )
  }
  const schedule = new scheduler.CfnSchedule(scope, `${id}Schedule`, {
    name,
    description: `Invokes ${name} on its schedule`,
    scheduleExpression: props.schedule.expressionString,
    ...(!isUtc(props.schedule) && { scheduleExpressionTimezone: props.schedule.timeZone?.timezoneName }),
    flexibleTimeWindow: { mode: 'OFF' },
    state: 'ENABLED',
    target: {
      arn: fn.functionArn,
      roleArn: role.roleArn,
      retryPolicy: {
        maximumRetryAttempts: props.scheduleRetryAttempts,
        maximumEventAgeInSeconds: props.scheduleMaxEventAge.toSeconds(),
      },
      ...(deadLetterQueue && { deadLetterConfig: { arn: deadLetterQueue.queueArn } }),
    },
  })
  return { schedule, name }
}
