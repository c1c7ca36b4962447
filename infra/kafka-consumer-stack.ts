/**
 * The deployable stack: one `ScheduledKafkaConsumer` and the outputs an operator needs (function,
 * table, layer, schedule, log group, dead-letter queues). Environment-agnostic unless an account
 * and region are given, so it synthesizes without AWS credentials.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as kms from 'aws-cdk-lib/aws-kms'
import type { Construct } from 'constructs'
import { InvalidConstructPropError } from './errors.ts'
import { ScheduledKafkaConsumer, type ScheduledKafkaConsumerProps } from './scheduled-kafka-consumer.ts'

/** Existing resources, found by id when the stack is synthesized. */
export interface ExistingResources {
  /** A VPC to place the function in; looked up, so the stack needs an account and region. */
  readonly vpcId?: string
  /** @default - the VPC's private subnets */
  readonly subnetIds?: readonly string[]
  /** @default - a new security group */
  readonly securityGroupIds?: readonly string[]
  /** Your customer-managed KMS key for the table. */
  readonly tableKeyArn?: string
  /** The customer-managed KMS key of the Kafka secret (`kafkaSecretArn`). */
  readonly kafkaSecretKeyArn?: string
}

export interface KafkaConsumerStackProps extends StackProps {
  readonly consumer: ScheduledKafkaConsumerProps
  readonly existing?: ExistingResources
}

export class KafkaConsumerStack extends Stack {
  readonly consumer: ScheduledKafkaConsumer

  constructor(scope: Construct, id: string, props: KafkaConsumerStackProps) {
    super(scope, id, props)
    const consumer = new ScheduledKafkaConsumer(this, 'Consumer', {
      ...props.consumer,
      ...this.lookUp(props.existing ?? {}),
    })
    this.consumer = consumer
    const list = (values: readonly string[]) => values.join(',')

    new CfnOutput(this, 'FunctionName', {
      description: 'The Lambda function(s), one per shard',
      value: list(consumer.functions.map((fn) => fn.functionName)),
    })
    new CfnOutput(this, 'TableName', { description: 'The offsets table', value: consumer.table.tableName })
    new CfnOutput(this, 'LayerArn', {
      description: 'The Kafka client layer version',
      value: consumer.layer.layerVersionArn,
    })
    new CfnOutput(this, 'ScheduleName', {
      description: 'The every-minute schedule(s) (Scheduler schedules or EventBridge rules)',
      value: list(consumer.shards.map((shard) => shard.scheduleName)),
    })
    new CfnOutput(this, 'LogGroupName', {
      description: 'CloudWatch log group(s), one-week retention',
      value: list(consumer.shards.map((shard) => shard.logGroup.logGroupName)),
    })
    if (consumer.deadLetterQueue) {
      new CfnOutput(this, 'DeadLetterQueueUrl', {
        description: 'Failed invocations (on-failure destination and schedule dead letters)',
        value: consumer.deadLetterQueue.queueUrl,
      })
    }
    if (consumer.messageDeadLetterQueue) {
      new CfnOutput(this, 'MessageDeadLetterQueueUrl', {
        description: 'Messages the processor gave up on (DEAD_LETTER_QUEUE_URL)',
        value: consumer.messageDeadLetterQueue.queueUrl,
      })
    }
  }

  private lookUp(existing: ExistingResources): Partial<ScheduledKafkaConsumerProps> {
    const found: {
      vpc?: ec2.IVpc
      vpcSubnets?: ec2.SubnetSelection
      securityGroups?: ec2.ISecurityGroup[]
      tableEncryptionKey?: kms.IKey
      kafkaSecretKey?: kms.IKey
    } = {}
    if (existing.vpcId !== undefined) {
      found.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: existing.vpcId })
    } else if (existing.subnetIds !== undefined || existing.securityGroupIds !== undefined) {
      throw new InvalidConstructPropError(
        'vpcId',
        undefined,
        'a VPC id when subnetIds or securityGroupIds are set',
      )
    }
    if (existing.subnetIds !== undefined && existing.subnetIds.length > 0) {
      // A filter on the looked-up VPC keeps the subnets' route tables known (the gateway endpoint needs them).
      found.vpcSubnets = { subnetFilters: [ec2.SubnetFilter.byIds([...existing.subnetIds])] }
    }
    if (existing.securityGroupIds !== undefined && existing.securityGroupIds.length > 0) {
      found.securityGroups = existing.securityGroupIds.map((groupId) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup-${groupId}`, groupId),
      )
    }
    if (existing.tableKeyArn !== undefined) {
      found.tableEncryptionKey = kms.Key.fromKeyArn(this, 'TableKey', existing.tableKeyArn)
    }
    if (existing.kafkaSecretKeyArn !== undefined) {
      found.kafkaSecretKey = kms.Key.fromKeyArn(this, 'KafkaSecretKey', existing.kafkaSecretKeyArn)
    }
    return found
  }
}
