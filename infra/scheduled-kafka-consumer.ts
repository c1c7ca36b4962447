/**
 * The seed's whole architecture as one reusable CDK construct, composed of its parts: the team's
 * handler bundled into a Node.js 24 function (./function-code.ts) with the Kafka client's layer
 * (./kafka-client-layer), the offsets table (or yours), the schedule (./consumer-schedule.ts), the
 * log group, a least-privilege role (./execution-role.ts), the environment from one table
 * (./function-environment.ts), the network (./consumer-network.ts), the alarms
 * (./consumer-monitoring.ts) and the compliance acknowledgements (./compliance.ts). Props are
 * validated before anything is built (./consumer-props.ts); what is built is exposed as fields.
 */
import { CfnResource, Duration, Lazy, Names, RemovalPolicy, Stack } from 'aws-cdk-lib'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as ec2 from 'aws-cdk-lib/aws-ec2'
import type * as events from 'aws-cdk-lib/aws-events'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations'
import * as logs from 'aws-cdk-lib/aws-logs'
import type * as scheduler from 'aws-cdk-lib/aws-scheduler'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import { Construct } from 'constructs'
import { acknowledgeCompliance } from './compliance.ts'
import { ConsumerMonitoring } from './consumer-monitoring.ts'
import { type ConsumerNetwork, placeInVpc } from './consumer-network.ts'
import { type ResolvedProps, resolveProps, type ScheduledKafkaConsumerProps } from './consumer-props.ts'
import { scheduleShard } from './consumer-schedule.ts'
import { grantExecutionRole } from './execution-role.ts'
import { consumerFunction } from './function-code.ts'
import { functionEnvironment } from './function-environment.ts'
import { kafkaClientLayerCode } from './kafka-client-layer/kafka-client-layer.ts'

export type { ScheduledKafkaConsumerProps }

/** What one shard built: its function, log group and schedule. */
export interface ConsumerShard {
  readonly index: number
  readonly function: lambda.Function
  readonly logGroup: logs.LogGroup
  /** The Scheduler schedule or the EventBridge rule. */
  readonly schedule: scheduler.CfnSchedule | events.Rule
  readonly scheduleName: string
}

export class ScheduledKafkaConsumer extends Construct {
  /** Every shard's function; one unless `shards` > 1. */
  readonly functions: readonly lambda.Function[]
  /** The first (usually only) function. */
  readonly lambdaFunction: lambda.Function
  readonly shards: readonly ConsumerShard[]
  readonly layer: lambda.ILayerVersion
  /** The offsets table: the one given, or the one created. */
  readonly table: dynamodb.ITable
  readonly role: iam.Role
  /** The customer-managed key of the new table, when `tableEncryptionKey` asked for one. */
  readonly tableKey?: kms.IKey
  /** Failed invocations (on-failure destination and the schedule's dead-letter queue). */
  readonly deadLetterQueue?: sqs.Queue
  /** Messages the processor gave up on (env `DEAD_LETTER_QUEUE_URL`). */
  readonly messageDeadLetterQueue?: sqs.Queue
  readonly securityGroups?: readonly ec2.ISecurityGroup[]
  /** The alarms (and dashboard), unless `monitoring` is false. */
  readonly monitoring?: ConsumerMonitoring
  /** Names this consumer in its logs and metrics (`POWERTOOLS_SERVICE_NAME`, the `service` dimension). */
  readonly serviceName: string

  constructor(scope: Construct, id: string, props: ScheduledKafkaConsumerProps) {
    super(scope, id)
    const config = resolveProps(props)
    const named = config.functionName
    this.serviceName = named ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' })

    let createdTable: dynamodb.Table | undefined
    if (config.table) {
      this.table = config.table
    } else {
      if (config.tableEncryptionKey === true) {
        this.tableKey = new kms.Key(this, 'TableKey', {
          description: 'Encrypts the Kafka consumer offsets table',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.RETAIN,
        })
      } else if (config.tableEncryptionKey) {
        this.tableKey = config.tableEncryptionKey
      }
      // Exactly the seed's keys.
      createdTable = new dynamodb.Table(this, 'OffsetsTable', {
        ...(config.tableName !== undefined && { tableName: config.tableName }),
        partitionKey: { name: 'consumer_id', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'partition', type: dynamodb.AttributeType.NUMBER },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: config.tableRemovalPolicy,
        // Without a key, DynamoDB encrypts at rest with the key it owns (no SSESpecification at all).
        ...(this.tableKey && {
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: this.tableKey,
        }),
      })
      this.table = createdTable
    }

    // The Kafka client and its dependencies, under nodejs/node_modules (the seed's layer, for Node).
    this.layer =
      config.kafkaClientLayer ??
      new lambda.LayerVersion(this, 'KafkaClientLayer', {
        ...(named !== undefined && { layerVersionName: `${named}-kafka-client` }),
        description: '@platformatic/kafka, bundled, for the Kafka consumer (nodejs/node_modules)',
        code: kafkaClientLayerCode(config.architecture),
        compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
        compatibleArchitectures: [config.architecture],
        license: 'Apache-2.0',
      })

    if (config.invocationDeadLetterQueue) {
      this.deadLetterQueue = secureQueue(this, 'DeadLetterQueue', named && `${named}-dlq`)
    }
    if (config.messageDeadLetterQueue) {
      // SQS's largest message (1 MiB): a dead letter carries the whole message, base64 where binary.
      this.messageDeadLetterQueue = secureQueue(
        this,
        'MessageDeadLetterQueue',
        named && `${named}-messages-dlq`,
        1024 * 1024,
      )
    }

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the Kafka consumer of ${config.kafkaTopic}: the seed's least-privilege permissions, nothing more`,
    })

    let network: ConsumerNetwork | undefined
    if (config.vpc) {
      network = placeInVpc(this, config, config.vpc, this.role, `the consumer of ${config.kafkaTopic}`)
      this.securityGroups = network.securityGroups
    }

    const shards: ConsumerShard[] = []
    for (let index = 0; index < config.shards; index++) shards.push(this.buildShard(config, index, network))
    this.shards = shards
    this.functions = shards.map((shard) => shard.function)
    this.lambdaFunction = shards[0]!.function

    grantExecutionRole(this.role, {
      props: config,
      stack: Stack.of(this),
      table: this.table,
      ...(this.tableKey && { tableKey: this.tableKey }),
      logGroups: shards.map((shard) => shard.logGroup),
      ...(this.messageDeadLetterQueue && { messageDeadLetterQueue: this.messageDeadLetterQueue }),
      environment: this.environmentOf(config, 0),
    })

    if (config.monitoring !== false) {
      this.monitoring = new ConsumerMonitoring(this, 'Monitoring', {
        ...config.monitoring,
        serviceName: this.serviceName,
        topic: config.kafkaTopic,
        functions: this.functions,
        timeout: config.timeout,
        ...(this.messageDeadLetterQueue && { messageDeadLetterQueue: this.messageDeadLetterQueue }),
      })
    }

    acknowledgeCompliance({
      ...(createdTable && { createdTable }),
      ...(this.tableKey && { tableKey: this.tableKey }),
      role: this.role,
      logGroups: shards.map((shard) => shard.logGroup),
      functions: this.functions,
      ...(this.deadLetterQueue && { deadLetterQueue: this.deadLetterQueue }),
      ...(this.messageDeadLetterQueue && { messageDeadLetterQueue: this.messageDeadLetterQueue }),
      ...(network && { networkInterfacePolicy: network.networkInterfacePolicy }),
      ...(this.monitoring?.alarmTopic && { alarmTopic: this.monitoring.alarmTopic }),
      inVpc: network !== undefined,
      glueSchemaRegistry: this.environmentOf(config, 0).SCHEMA_REGISTRY === 'glue',
    })
  }

  private environmentOf(config: ResolvedProps, shardIndex: number): Record<string, string> {
    return functionEnvironment({
      props: config,
      table: this.table,
      ...(this.messageDeadLetterQueue && { messageDeadLetterQueue: this.messageDeadLetterQueue }),
      shardIndex,
      serviceName: this.serviceName,
    })
  }

  private buildShard(
    config: ResolvedProps,
    index: number,
    network: ConsumerNetwork | undefined,
  ): ConsumerShard {
    const sharded = config.shards > 1
    const suffix = sharded ? `-${index}` : ''
    const id = sharded ? `Shard${index}` : ''
    const functionName = config.functionName === undefined ? undefined : `${config.functionName}${suffix}`

    // Created by the stack (not by Lambda on first write) so that retention and removal are ours,
    // and the role needs no logs:CreateLogGroup.
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
      ...(functionName !== undefined && { logGroupName: `/aws/lambda/${functionName}` }),
      retention: config.logRetention,
      // Operational logs with a one-week life: deleted with the stack, so a redeploy can recreate the name.
      removalPolicy: RemovalPolicy.DESTROY,
    })

    const fn = consumerFunction(
      this,
      `${id}Function`,
      {
        ...(functionName !== undefined && { functionName }),
        description: `Consumes Kafka topic ${config.kafkaTopic} on its schedule; offsets in DynamoDB`,
        architecture: config.architecture,
        layers: [this.layer],
        memorySize: config.memorySize,
        timeout: config.timeout,
        role: this.role,
        logGroup,
        environment: this.environmentOf(config, index),
        ...(config.reservedConcurrency !== false && {
          reservedConcurrentExecutions: config.reservedConcurrency,
        }),
        retryAttempts: config.asyncRetryAttempts,
        maxEventAge: config.asyncMaxEventAge,
        ...(this.deadLetterQueue && { onFailure: new SqsDestination(this.deadLetterQueue) }),
        ...(network && {
          vpc: network.vpc,
          ...(config.vpcSubnets && { vpcSubnets: config.vpcSubnets }),
          securityGroups: [...network.securityGroups],
        }),
      },
      config,
    )
    if (network)
      (fn.node.defaultChild as lambda.CfnFunction).node.addDependency(network.networkInterfacePolicy)
    dropRedundantRoleDependency(fn, this.role)

    // Scheduler's role trusts this schedule by name: it is named before deployment.
    const scheduleName =
      functionName ?? `${Names.uniqueResourceName(this, { maxLength: 60, separator: '-' })}${suffix}`
    const { schedule } = scheduleShard(this, id, scheduleName, fn, config, this.deadLetterQueue)
    return { index, function: fn, logGroup, schedule, scheduleName }
  }
}

/**
 * CDK makes a function `DependsOn` its role although the `Fn::GetAtt` of the role's ARN already
 * orders them, which cfn-lint reports (W3005). Every other dependency stays: the role's policies
 * (so the function never runs before its permissions exist) and any VPC wiring.
 */
function dropRedundantRoleDependency(fn: lambda.Function, role: iam.Role): void {
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction
  const cfnRole = role.node.defaultChild as iam.CfnRole
  const stack = Stack.of(fn)
  cfnFunction.addOverride(
    'DependsOn',
    Lazy.list(
      {
        produce: () =>
          cfnFunction
            .obtainDependencies()
            .filter((dependency): dependency is CfnResource => dependency instanceof CfnResource)
            .filter((dependency) => dependency !== cfnRole)
            .map((dependency) => stack.getLogicalId(dependency))
            .sort(),
      },
      { omitEmpty: true },
    ),
  )
}

/** An SQS queue as the checks want it: encrypted at rest (SQS-managed keys) and reachable over TLS only. */
function secureQueue(
  scope: Construct,
  id: string,
  queueName: string | undefined,
  maxMessageSizeBytes?: number,
): sqs.Queue {
  return new sqs.Queue(scope, id, {
    ...(queueName !== undefined && { queueName }),
    ...(maxMessageSizeBytes !== undefined && { maxMessageSizeBytes }),
    // SQS-managed keys, not the AWS managed KMS key aws/sqs: EventBridge could not send a rule's
    // dead letters to a queue under aws/sqs, whose key policy no service principal can be granted.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  })
}
