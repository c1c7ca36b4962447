/**
 * The compliance acknowledgements, in one place: each cdk-nag finding and each checkov check that
 * the design answers on purpose, written on the resource with the reason a reviewer reads (cdk-nag
 * through `Validations.acknowledge`, checkov in the template's `Metadata.checkov.skip`). Applied
 * once the construct has built everything.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as iam from 'aws-cdk-lib/aws-iam'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as lambda from 'aws-cdk-lib/aws-lambda'
import type * as logs from 'aws-cdk-lib/aws-logs'
import * as sns from 'aws-cdk-lib/aws-sns'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import type { Construct } from 'constructs'

/** A checkov check skipped on one resource, with the reason a reviewer reads in the template. */
export interface CheckovSkip {
  readonly id: string
  readonly comment: string
}

/** Writes `Metadata.checkov.skip` on the construct's CloudFormation resource, where checkov reads it. */
export function skipCheckov(construct: Construct, skips: readonly CheckovSkip[]): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild
  if (!(resource instanceof CfnResource))
    throw new Error(`${construct.node.path} has no CloudFormation resource`)
  const existing = (resource.getMetadata('checkov') as { skip?: CheckovSkip[] } | undefined)?.skip ?? []
  resource.addMetadata('checkov', { skip: [...existing, ...skips] })
}

/** What the construct built, as the acknowledgements need it. */
export interface BuiltConsumer {
  /** The new table, when the construct made one. */
  readonly createdTable?: dynamodb.Table
  readonly tableKey?: kms.IKey
  readonly role: iam.Role
  readonly logGroups: readonly logs.LogGroup[]
  readonly functions: readonly lambda.Function[]
  readonly deadLetterQueue?: sqs.Queue
  readonly messageDeadLetterQueue?: sqs.Queue
  readonly networkInterfacePolicy?: iam.Policy
  readonly alarmTopic?: sns.ITopic
  readonly inVpc: boolean
  /** SCHEMA_REGISTRY=glue: the role may read schema versions (glue:GetSchemaVersion on '*'). */
  readonly glueSchemaRegistry: boolean
}

export function acknowledgeCompliance(built: BuiltConsumer): void {
  const stack = Stack.of(built.role)

  if (built.createdTable && !built.tableKey) {
    skipCheckov(built.createdTable, [
      {
        id: 'CKV_AWS_119',
        comment:
          'Encrypted at rest with the key DynamoDB owns (no cost), as the seed says; a customer-managed key is the tableEncryptionKey prop.',
      },
    ])
  }

  for (const [queue, reason] of [
    [
      built.deadLetterQueue,
      'This queue is itself the dead-letter queue of the function (on-failure destination) and of its schedule.',
    ],
    [
      built.messageDeadLetterQueue,
      'This queue is itself a dead-letter queue: it receives the Kafka messages the processor gave up on, for inspection and replay.',
    ],
  ] as const) {
    if (!queue) continue
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason })
    skipCheckov(queue, [
      {
        id: 'CKV_AWS_27',
        comment:
          'Encrypted at rest with SQS-managed server-side encryption (SqsManagedSseEnabled: true), which this check does not recognize.',
      },
    ])
  }

  for (const logGroup of built.logGroups) {
    const logGroupId = stack.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)
    Validations.of(built.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
      reason:
        "Log streams are created per execution environment with generated names: the role may write to any stream of this function's own log group only (the log group ARN ends in :*).",
    })
    skipCheckov(logGroup, [
      {
        id: 'CKV_AWS_158',
        comment:
          'CloudWatch Logs encrypts log data at rest by default; the consumer never logs secrets, and message content only at DEBUG.',
      },
    ])
  }
  if (built.tableKey) {
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(built.role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          "DynamoDB calls the GenerateDataKey and ReEncrypt variants on the caller's behalf to use the table's customer-managed key; the grant is on that one key only.",
      })
    }
  }

  if (built.glueSchemaRegistry) {
    Validations.of(built.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "glue:GetSchemaVersion only, read-only: the Glue wire format names a schema version by its id, a lookup that names no registry, which IAM authorizes only on '*' (as the AWS managed AWSGlueSchemaRegistryReadonlyAccess policy; awslabs/aws-glue-schema-registry#68).",
    })
  }

  if (built.networkInterfacePolicy) {
    Validations.of(built.networkInterfacePolicy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets are read-only and work only on '*' (Lambda VPC guide); Lambda needs them to place the function in the VPC.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]',
        reason:
          'The network interfaces Lambda creates for the function get ids only when created: the writes are limited to this account and region, the form the Lambda VPC guide gives.',
      },
    )
  }

  for (const fn of built.functions) {
    skipCheckov(fn, [
      {
        id: 'CKV_AWS_173',
        comment:
          'Lambda encrypts environment variables at rest with an AWS managed key; they hold no secret (Kafka credentials are read from Secrets Manager by ARN).',
      },
      ...(built.deadLetterQueue
        ? [
            {
              id: 'CKV_AWS_116',
              comment:
                "Failed asynchronous invocations go to an SQS on-failure destination (DestinationConfig), Lambda's successor to DeadLetterConfig, which also records the error.",
            },
          ]
        : []),
      ...(built.inVpc
        ? []
        : [
            {
              id: 'CKV_AWS_117',
              comment:
                'The Kafka cluster may be reached over the internet (TLS and SASL); VPC placement is the vpc prop, for private clusters.',
            },
          ]),
    ])
  }

  if (built.alarmTopic instanceof sns.Topic) {
    Validations.of(built.alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry no data but the alarm name and state; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key for this alone costs more than the rest of the stack. Pass alarmTopic to use your own encrypted topic.',
    })
    skipCheckov(built.alarmTopic, [
      {
        id: 'CKV_AWS_26',
        comment:
          'Alarm notifications only (no message data); an encrypted topic of your own can be passed as alarmTopic.',
      },
    ])
  }
}
