/**
 * The seed's whole architecture as one reusable CDK construct: the function
 * `kafka-consumer-lambda` with its Kafka-client layer, the offsets table, the every-minute
 * schedule, the one-week log group, a least-privilege role, and the seed's "consider adding" list
 * (reserved concurrency, dead-letter queues, VPC placement, Secrets Manager, KMS, MSK IAM), each a
 * prop. Props are validated before anything is built; what is built is exposed as fields.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { CfnResource, Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import * as events from 'aws-cdk-lib/aws-events'
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets'
import * as iam from 'aws-cdk-lib/aws-iam'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import * as sns from 'aws-cdk-lib/aws-sns'
import * as sqs from 'aws-cdk-lib/aws-sqs'
import { Construct } from 'constructs'
import { ConfigError } from '../src/config/errors.ts'
import { loadConfig, settings } from '../src/config/schema.ts'
import { ConsumerMonitoring, type ConsumerMonitoringOptions } from './consumer-monitoring.ts'
import { InvalidConstructPropError } from './errors.ts'

const repositoryRoot = resolve(import.meta.dirname, '..')

export type ScheduleKind = 'scheduler' | 'rule'
export type CpuArchitecture = 'arm64' | 'x86_64'
export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
export type KafkaSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'AWS_MSK_IAM'

export interface ScheduledKafkaConsumerProps {
  /** Comma-separated Kafka brokers, `host:port` (env `KAFKA_BOOTSTRAP_SERVERS`). Required. */
  readonly kafkaBootstrapServers: string
  /** The topic to consume, every partition of it (env `KAFKA_TOPIC`). Required. */
  readonly kafkaTopic: string
  /**
   * Names the consumer: offsets are stored under `{group_id}_{topic}` (env `KAFKA_GROUP_ID`).
   * @default 'lambda-consumer-group'
   */
  readonly kafkaGroupId?: string
  /**
   * The function's name; also names the log group, the schedule and the queues.
   * With `shards` > 1, each shard's function is `{functionName}-{index}`.
   * @default 'kafka-consumer-lambda'
   */
  readonly functionName?: string
  /**
   * The offsets table (env `DYNAMODB_TABLE`), created by the construct with the seed's keys.
   * @default 'kafka-consumer-offsets'
   */
  readonly tableName?: string
  /**
   * CPU architecture of the function and of its layer's native CRC32C binary. arm64 costs 20% less per GB-second.
   * @default 'arm64'
   */
  readonly architecture?: CpuArchitecture
  /** @default 512 */
  readonly memorySizeInMb?: number
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration
  /** The most messages one invocation processes (env `MAX_MESSAGES`). @default 1000 */
  readonly maxMessages?: number
  /** Where a partition with no stored offset starts (env `START_POSITION`). @default 'earliest' */
  readonly startPosition?: 'earliest' | 'latest'
  /** Env `LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'
  /**
   * More environment variables for the function (e.g. `FETCH_MAX_BYTES`). May not redefine one the
   * construct sets from a prop.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>
  /**
   * `scheduler`: an EventBridge Scheduler schedule (AWS's successor to scheduled rules) with a retry
   * policy and the dead-letter queue. `rule`: a classic EventBridge rule, exactly as in the seed.
   * @default 'scheduler'
   */
  readonly scheduleKind?: ScheduleKind
  /** @default 'cron(* * * * ? *)' (every minute, as in the seed) */
  readonly scheduleExpression?: string
  /**
   * Scheduler only: how many times Scheduler retries an invocation Lambda refused before the event
   * goes to the dead-letter queue.
   * @default 2
   */
  readonly scheduleRetryAttempts?: number
  /**
   * Scheduler only: how long Scheduler keeps retrying one event; a newer one comes every minute.
   * @default Duration.minutes(2)
   */
  readonly scheduleMaxEventAge?: Duration
  /**
   * Reserved concurrency; 1 means two runs never overlap (they would fetch the same offsets).
   * `false` leaves the function unreserved.
   * @default 1
   */
  readonly reservedConcurrency?: number | false
  /**
   * An SQS queue (encrypted, TLS only) for failed invocations: the function's asynchronous
   * on-failure destination, and the schedule's dead-letter queue.
   * @default true
   */
  readonly invocationDeadLetterQueue?: boolean
  /**
   * Lambda's own retries of a failed asynchronous invocation. 0 because the schedule's next run,
   * a minute later, is the retry: it resumes from the saved offsets.
   * @default 0
   */
  readonly asyncRetryAttempts?: number
  /**
   * How long an invocation event may wait (e.g. behind a running one, with reserved concurrency 1)
   * before Lambda drops it to the on-failure destination.
   * @default Duration.minutes(10)
   */
  readonly asyncMaxEventAge?: Duration
  /**
   * An SQS queue (encrypted, TLS only) for messages the processor could not handle; its URL is
   * passed in env `DEAD_LETTER_QUEUE_URL` and the function may only `sqs:SendMessage` to it.
   * @default true
   */
  readonly messageDeadLetterQueue?: boolean
  /**
   * Places the function in this VPC (for a private Kafka cluster).
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc
  /** @default - the VPC's private subnets, else its isolated ones (CDK's default selection) */
  readonly vpcSubnets?: ec2.SubnetSelection
  /** @default - a new security group allowing all outbound traffic and no inbound */
  readonly securityGroups?: readonly ec2.ISecurityGroup[]
  /**
   * With `vpc`: a DynamoDB gateway endpoint (free), so the function reaches its table without a NAT gateway.
   * @default true when `vpc` is set
   */
  readonly dynamoDbGatewayEndpoint?: boolean
  /**
   * With `vpc`: a Secrets Manager interface endpoint (billed hourly), for `kafkaSecretArn` without a NAT gateway.
   * @default false
   */
  readonly secretsManagerEndpoint?: boolean
  /**
   * With `vpc`: an SQS interface endpoint (billed hourly), for the message dead-letter queue without a NAT gateway.
   * @default false
   */
  readonly sqsEndpoint?: boolean
  /**
   * A Secrets Manager secret holding the Kafka credentials (env `KAFKA_SECRET_ARN`); the role may
   * `secretsmanager:GetSecretValue` on this ARN only. The full ARN, with its random suffix.
   * @default - no secret
   */
  readonly kafkaSecretArn?: string
  /**
   * The customer-managed KMS key that encrypts `kafkaSecretArn`; the role may `kms:Decrypt` with it, through Secrets Manager only.
   * @default - the secret uses the AWS managed key, which needs no grant
   */
  readonly kafkaSecretKeyArn?: string
  /** Env `KAFKA_SECURITY_PROTOCOL`. @default - unset; 'SASL_SSL' with `mskClusterArn` */
  readonly kafkaSecurityProtocol?: KafkaSecurityProtocol
  /** Env `KAFKA_SASL_MECHANISM`. @default - unset; 'AWS_MSK_IAM' with `mskClusterArn` */
  readonly kafkaSaslMechanism?: KafkaSaslMechanism
  /**
   * An Amazon MSK cluster with IAM authentication: the role may `kafka-cluster:Connect` to it and
   * `DescribeTopic`, `ReadData` on `kafkaTopic` only.
   * @default - no MSK IAM permissions
   */
  readonly mskClusterArn?: string
  /**
   * Encrypts the table with a customer-managed KMS key, rotated yearly: `true` creates one, or pass your key.
   * @default - encryption at rest with the key DynamoDB owns (no cost)
   */
  readonly tableEncryptionKey?: boolean | kms.IKey
  /** @default RemovalPolicy.RETAIN (offsets outlive the stack) */
  readonly tableRemovalPolicy?: RemovalPolicy
  /** @default logs.RetentionDays.ONE_WEEK (the seed's choice) */
  readonly logRetention?: logs.RetentionDays
  /**
   * N functions, each with its own schedule, reading a disjoint share of the partitions
   * (env `SHARD_COUNT`, `SHARD_INDEX`).
   * @default 1
   */
  readonly shards?: number
  /**
   * A CloudWatch dashboard and alarms (function errors, lag rising, a dead letter, duration
   * near the timeout, no successful run), optionally notifying an SNS topic; `false` for none.
   * @default - a dashboard and the alarms, without notifications
   */
  readonly monitoring?: ConsumerMonitoringOptions | false
  /**
   * The folder holding the bundled handler, `index.mjs` (`npm run build`).
   * @default '<repository>/dist/lambda'
   */
  readonly bundlePath?: string
  /**
   * The folder holding the layer, `nodejs/node_modules/...` (`node scripts/build-layer.ts --arch <architecture>`).
   * @default '<repository>/dist/layer/<architecture>'
   */
  readonly layerPath?: string
}

/** What one shard built: its function, log group and schedule. */
export interface ConsumerShard {
  readonly index: number
  readonly function: lambda.Function
  readonly logGroup: logs.LogGroup
  /** The Scheduler schedule or the EventBridge rule. */
  readonly schedule: scheduler.CfnSchedule | events.Rule
  readonly scheduleName: string
}

export const DEFAULTS = {
  kafkaGroupId: 'lambda-consumer-group',
  functionName: 'kafka-consumer-lambda',
  tableName: 'kafka-consumer-offsets',
  architecture: 'arm64',
  memorySizeInMb: 512,
  timeout: Duration.minutes(5),
  maxMessages: 1000,
  startPosition: 'earliest',
  logLevel: 'INFO',
  scheduleKind: 'scheduler',
  scheduleExpression: 'cron(* * * * ? *)',
  scheduleRetryAttempts: 2,
  scheduleMaxEventAge: Duration.minutes(2),
  reservedConcurrency: 1,
  asyncRetryAttempts: 0,
  asyncMaxEventAge: Duration.minutes(10),
  logRetention: logs.RetentionDays.ONE_WEEK,
  shards: 1,
} as const

type Resolved = Required<
  Omit<
    ScheduledKafkaConsumerProps,
    | 'environment'
    | 'vpc'
    | 'vpcSubnets'
    | 'securityGroups'
    | 'kafkaSecretArn'
    | 'kafkaSecretKeyArn'
    | 'kafkaSecurityProtocol'
    | 'kafkaSaslMechanism'
    | 'mskClusterArn'
    | 'tableEncryptionKey'
  >
> &
  ScheduledKafkaConsumerProps

export class ScheduledKafkaConsumer extends Construct {
  /** Every shard's function; one unless `shards` > 1. */
  readonly functions: readonly lambda.Function[]
  /** The first (usually only) function. */
  readonly lambdaFunction: lambda.Function
  readonly shards: readonly ConsumerShard[]
  readonly layer: lambda.LayerVersion
  readonly table: dynamodb.Table
  readonly role: iam.Role
  /** The customer-managed key of the table, when `tableEncryptionKey` asked for one. */
  readonly tableKey?: kms.IKey
  /** Failed invocations (on-failure destination and the schedule's dead-letter queue). */
  readonly deadLetterQueue?: sqs.Queue
  /** Messages the processor gave up on (env `DEAD_LETTER_QUEUE_URL`). */
  readonly messageDeadLetterQueue?: sqs.Queue
  readonly securityGroups?: readonly ec2.ISecurityGroup[]
  /** In a VPC: Lambda checks these permissions when the function is created, so it must exist first. */
  private readonly networkInterfacePolicy?: iam.Policy
  /** The dashboard and alarms, unless `monitoring` is false. */
  readonly monitoring?: ConsumerMonitoring

  constructor(scope: Construct, id: string, props: ScheduledKafkaConsumerProps) {
    super(scope, id)
    const config = validate(props)
    const stack = Stack.of(this)
    const lambdaArchitecture =
      config.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64

    // The offsets table: exactly the seed's keys.
    if (config.tableEncryptionKey === true) {
      this.tableKey = new kms.Key(this, 'TableKey', {
        description: `Encrypts the Kafka offsets table ${config.tableName}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      })
    } else if (config.tableEncryptionKey) {
      this.tableKey = config.tableEncryptionKey
    }
    this.table = new dynamodb.Table(this, 'OffsetsTable', {
      tableName: config.tableName,
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

    if (!this.tableKey) {
      skipCheckov(this.table, [
        {
          id: 'CKV_AWS_119',
          comment:
            'Encrypted at rest with the key DynamoDB owns (no cost), as the seed says; a customer-managed key is the tableEncryptionKey prop.',
        },
      ])
    }

    // The Kafka client and its dependencies, under nodejs/node_modules (the seed's layer, for Node).
    this.layer = new lambda.LayerVersion(this, 'KafkaClientLayer', {
      layerVersionName: `${config.functionName}-kafka-client`,
      description: '@platformatic/kafka and its dependencies for the Kafka consumer (nodejs/node_modules)',
      code: lambda.Code.fromAsset(config.layerPath),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      compatibleArchitectures: [lambdaArchitecture],
      license: 'Apache-2.0',
    })

    if (config.invocationDeadLetterQueue) {
      this.deadLetterQueue = secureQueue(this, 'DeadLetterQueue', `${config.functionName}-dlq`)
      Validations.of(this.deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter queue of the function (on-failure destination) and of its schedule.',
      })
    }
    if (config.messageDeadLetterQueue) {
      // SQS's largest message (1 MiB): a dead letter carries the whole message, base64 where binary.
      this.messageDeadLetterQueue = secureQueue(
        this,
        'MessageDeadLetterQueue',
        `${config.functionName}-messages-dlq`,
        1024 * 1024,
      )
      Validations.of(this.messageDeadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter queue: it receives the Kafka messages the processor gave up on, for inspection and replay.',
      })
    }

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${config.functionName}: the seed's least-privilege permissions, nothing more`,
    })
    this.grantTableAccess()
    this.grantOptionalAccess(config, stack)

    if (config.vpc) {
      this.securityGroups = config.securityGroups ?? [
        new ec2.SecurityGroup(this, 'SecurityGroup', {
          vpc: config.vpc,
          description: `${config.functionName}: outbound to Kafka, DynamoDB and AWS APIs; no inbound`,
          allowAllOutbound: true,
        }),
      ]
      this.addVpcEndpoints(config, config.vpc)
      // Lambda creates and deletes the function's network interfaces with the execution role.
      // The Describe actions work only on '*'; the writes are kept to this account and region,
      // in the form the Lambda VPC guide gives (the ENIs' ids are not known in advance).
      const eniPolicy = new iam.Policy(this, 'VpcNetworkInterfaces', {
        statements: [
          new iam.PolicyStatement({
            sid: 'DescribeNetworkInterfaces',
            actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'ManageNetworkInterfaces',
            actions: [
              'ec2:CreateNetworkInterface',
              'ec2:DeleteNetworkInterface',
              'ec2:AssignPrivateIpAddresses',
              'ec2:UnassignPrivateIpAddresses',
            ],
            resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
          }),
        ],
      })
      this.role.attachInlinePolicy(eniPolicy)
      this.networkInterfacePolicy = eniPolicy
      Validations.of(eniPolicy).acknowledge(
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

    const shards: ConsumerShard[] = []
    for (let index = 0; index < config.shards; index++) {
      shards.push(this.buildShard(config, index, lambdaArchitecture))
    }
    this.shards = shards
    this.functions = shards.map((shard) => shard.function)
    this.lambdaFunction = shards[0]!.function
    this.acknowledgeRoleFindings()

    if (props.monitoring !== false) {
      this.monitoring = new ConsumerMonitoring(this, 'Monitoring', {
        ...props.monitoring,
        name: config.functionName,
        topic: config.kafkaTopic,
        functions: this.functions,
        timeout: config.timeout,
        ...(this.messageDeadLetterQueue && { messageDeadLetterQueue: this.messageDeadLetterQueue }),
      })
      const alarmTopic = this.monitoring.alarmTopic
      if (alarmTopic instanceof sns.Topic) {
        Validations.of(alarmTopic).acknowledge({
          id: 'AwsSolutions-SNS2',
          reason:
            'Alarm notifications carry no data but the alarm name and state; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key for this alone costs more than the rest of the stack. Pass alarmTopic to use your own encrypted topic.',
        })
        skipCheckov(alarmTopic, [
          {
            id: 'CKV_AWS_26',
            comment:
              'Alarm notifications only (no message data); an encrypted topic of your own can be passed as alarmTopic.',
          },
        ])
      }
    }
  }

  /** cdk-nag findings on the execution role that are the least privilege possible, with why. */
  private acknowledgeRoleFindings(): void {
    const stack = Stack.of(this)
    for (const shard of this.shards) {
      const logGroupId = stack.getLogicalId(shard.logGroup.node.defaultChild as logs.CfnLogGroup)
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
        reason:
          "Log streams are created per execution environment with generated names: the role may write to any stream of this function's own log group only (the log group ARN ends in :*).",
      })
    }
    if (this.tableKey) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason:
            "DynamoDB calls the GenerateDataKey and ReEncrypt variants on the caller's behalf to use the table's customer-managed key; the grant is on that one key only.",
        })
      }
    }
  }

  /** DynamoDB: exactly the calls the offset store makes, on this table only. */
  private grantTableAccess(): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OffsetsTable',
        // Query reads every partition's offset; PutItem saves them (conditionally); GetItem reads
        // one offset back after a failed condition. The seed also lists Scan, which no code path
        // uses: left out, least privilege.
        actions: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:GetItem'],
        resources: [this.table.tableArn],
      }),
    )
    // A customer-managed table key: DynamoDB uses it on the caller's behalf.
    this.tableKey?.grantEncryptDecrypt(this.role)
  }

  private grantOptionalAccess(config: Resolved, stack: Stack): void {
    if (this.messageDeadLetterQueue) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'MessageDeadLetters',
          actions: ['sqs:SendMessage'],
          resources: [this.messageDeadLetterQueue.queueArn],
        }),
      )
    }
    if (config.kafkaSecretArn) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'KafkaCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [config.kafkaSecretArn],
        }),
      )
      if (config.kafkaSecretKeyArn) {
        this.role.addToPolicy(
          new iam.PolicyStatement({
            sid: 'KafkaCredentialsKey',
            actions: ['kms:Decrypt'],
            resources: [config.kafkaSecretKeyArn],
            conditions: {
              // The secret is read in its own region (src/kafka/secrets-manager-reader.ts), which may not be the stack's.
              StringEquals: {
                'kms:ViaService': `secretsmanager.${regionOfArn(config.kafkaSecretArn, stack.region)}.amazonaws.com`,
              },
            },
          }),
        )
      }
    }
    if (config.mskClusterArn) {
      const cluster = parseMskClusterArn(config.mskClusterArn)
      const topicArn = `arn:${cluster.partition}:kafka:${cluster.region}:${cluster.account}:topic/${cluster.name}/${cluster.uuid}/${config.kafkaTopic}`
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'MskConnect',
          actions: ['kafka-cluster:Connect'],
          resources: [config.mskClusterArn],
        }),
      )
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'MskReadTopic',
          // No consumer group is joined, so no group permission is needed.
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
          resources: [topicArn],
        }),
      )
    }
  }

  private addVpcEndpoints(config: Resolved, vpc: ec2.IVpc): void {
    if (config.dynamoDbGatewayEndpoint !== false) {
      vpc.addGatewayEndpoint('DynamoDbEndpoint', {
        service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
        ...(config.vpcSubnets && { subnets: [config.vpcSubnets] }),
      })
    }
    const interfaceEndpoint = (id: string, service: ec2.InterfaceVpcEndpointAwsService) => {
      const endpointSecurityGroup = new ec2.SecurityGroup(this, `${id}SecurityGroup`, {
        vpc,
        description: `HTTPS from ${config.functionName} to ${id}`,
        allowAllOutbound: false,
      })
      for (const group of this.securityGroups ?? []) {
        endpointSecurityGroup.addIngressRule(group, ec2.Port.tcp(443), `HTTPS from ${config.functionName}`)
      }
      vpc.addInterfaceEndpoint(id, {
        service,
        ...(config.vpcSubnets && { subnets: config.vpcSubnets }),
        securityGroups: [endpointSecurityGroup],
        privateDnsEnabled: true,
        open: false,
      })
    }
    if (config.secretsManagerEndpoint) {
      interfaceEndpoint('SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER)
    }
    if (config.sqsEndpoint) interfaceEndpoint('SqsEndpoint', ec2.InterfaceVpcEndpointAwsService.SQS)
  }

  private buildShard(config: Resolved, index: number, architecture: lambda.Architecture): ConsumerShard {
    const sharded = config.shards > 1
    const functionName = sharded ? `${config.functionName}-${index}` : config.functionName
    const id = sharded ? `Shard${index}` : ''

    // Created by the stack (not by Lambda on first write) so that retention and removal are ours,
    // and the role needs no logs:CreateLogGroup.
    const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.logRetention,
      // Operational logs with a one-week life: deleted with the stack, so a redeploy can recreate the name.
      removalPolicy: RemovalPolicy.DESTROY,
    })
    logGroup.grantWrite(this.role)
    skipCheckov(logGroup, [
      {
        id: 'CKV_AWS_158',
        comment:
          'CloudWatch Logs encrypts log data at rest by default; the consumer never logs secrets, and message content only at DEBUG.',
      },
    ])

    const fn = new lambda.Function(this, `${id}Function`, {
      functionName,
      description: `Consumes Kafka topic ${config.kafkaTopic} every minute; offsets in DynamoDB table ${config.tableName}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(config.bundlePath),
      layers: [this.layer],
      memorySize: config.memorySizeInMb,
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
      ...(config.vpc && {
        vpc: config.vpc,
        ...(config.vpcSubnets && { vpcSubnets: config.vpcSubnets }),
        securityGroups: [...(this.securityGroups ?? [])],
      }),
    })

    if (this.networkInterfacePolicy) {
      ;(fn.node.defaultChild as lambda.CfnFunction).node.addDependency(this.networkInterfacePolicy)
    }
    dropRedundantRoleDependency(fn, this.role)
    skipCheckov(fn, [
      {
        id: 'CKV_AWS_173',
        comment:
          'Lambda encrypts environment variables at rest with an AWS managed key; they hold no secret (Kafka credentials are read from Secrets Manager by ARN).',
      },
      ...(this.deadLetterQueue
        ? [
            {
              id: 'CKV_AWS_116',
              comment:
                "Failed asynchronous invocations go to an SQS on-failure destination (DestinationConfig), Lambda's successor to DeadLetterConfig, which also records the error.",
            },
          ]
        : []),
      ...(config.vpc
        ? []
        : [
            {
              id: 'CKV_AWS_117',
              comment:
                'The Kafka cluster may be reached over the internet (TLS and SASL); VPC placement is the vpc prop, for private clusters.',
            },
          ]),
    ])

    let schedule: scheduler.CfnSchedule | events.Rule
    if (config.scheduleKind === 'scheduler') {
      schedule = this.scheduleWithScheduler(config, id, functionName, fn)
    } else {
      schedule = new events.Rule(this, `${id}Rule`, {
        ruleName: functionName,
        description: `Invokes ${functionName} every minute (the seed's rule)`,
        schedule: events.Schedule.expression(config.scheduleExpression),
        // The target adds lambda:InvokeFunction for events.amazonaws.com, scoped to this rule's ARN.
        targets: [
          new eventsTargets.LambdaFunction(fn, {
            retryAttempts: config.scheduleRetryAttempts,
            maxEventAge: config.scheduleMaxEventAge,
            ...(this.deadLetterQueue && { deadLetterQueue: this.deadLetterQueue }),
          }),
        ],
      })
    }
    return { index, function: fn, logGroup, schedule, scheduleName: functionName }
  }

  /**
   * An EventBridge Scheduler schedule with its own role, allowed to invoke this one function (no
   * version or alias wildcard) and to send to the dead-letter queue, assumable by Scheduler only
   * on behalf of this schedule. (The L2 target would grant `function:*`.)
   */
  private scheduleWithScheduler(
    config: Resolved,
    id: string,
    functionName: string,
    fn: lambda.Function,
  ): scheduler.CfnSchedule {
    const stack = Stack.of(this)
    const scheduleArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `default/${functionName}`,
    })
    const role = new iam.Role(this, `${id}ScheduleRole`, {
      description: `Lets EventBridge Scheduler invoke ${functionName}`,
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
    if (this.deadLetterQueue) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DeadLetters',
          actions: ['sqs:SendMessage'],
          resources: [this.deadLetterQueue.queueArn],
        }),
      )
    }
    return new scheduler.CfnSchedule(this, `${id}Schedule`, {
      name: functionName,
      description: `Invokes ${functionName} every minute`,
      scheduleExpression: config.scheduleExpression,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: fn.functionArn,
        roleArn: role.roleArn,
        retryPolicy: {
          maximumRetryAttempts: config.scheduleRetryAttempts,
          maximumEventAgeInSeconds: config.scheduleMaxEventAge.toSeconds(),
        },
        ...(this.deadLetterQueue && { deadLetterConfig: { arn: this.deadLetterQueue.queueArn } }),
      },
    })
  }

  private environmentOf(config: Resolved, index: number): Record<string, string> {
    const managed: Record<string, string> = {
      [settings.kafkaBootstrapServers.key]: config.kafkaBootstrapServers,
      [settings.kafkaTopic.key]: config.kafkaTopic,
      [settings.kafkaGroupId.key]: config.kafkaGroupId,
      [settings.dynamodbTable.key]: this.table.tableName,
      [settings.maxMessages.key]: String(config.maxMessages),
      [settings.startPosition.key]: config.startPosition,
      [settings.logLevel.key]: config.logLevel,
    }
    if (this.messageDeadLetterQueue) managed.DEAD_LETTER_QUEUE_URL = this.messageDeadLetterQueue.queueUrl
    if (config.kafkaSecretArn) managed.KAFKA_SECRET_ARN = config.kafkaSecretArn
    // No dashboard or alarms to read them: the metrics would only be billed.
    if (config.monitoring === false) managed.PUBLISH_METRICS = 'false'
    const securityProtocol = config.kafkaSecurityProtocol ?? (config.mskClusterArn ? 'SASL_SSL' : undefined)
    const saslMechanism = config.kafkaSaslMechanism ?? (config.mskClusterArn ? 'AWS_MSK_IAM' : undefined)
    if (securityProtocol) managed.KAFKA_SECURITY_PROTOCOL = securityProtocol
    if (saslMechanism) managed.KAFKA_SASL_MECHANISM = saslMechanism
    if (config.shards > 1) {
      managed.SHARD_COUNT = String(config.shards)
      managed.SHARD_INDEX = String(index)
    }
    // No NODE_OPTIONS heap flags: Lambda's Node.js runtime sizes the heap from the function's
    // memory on Node's command line, which takes precedence (bench/README.md, Memory).
    const environment = { ...config.environment, ...managed }
    checkAsTheFunctionWould(environment, config.tableName)
    return environment
  }
}

/** The prop that sets each variable the construct manages, to name in an error. */
const PROP_OF_KEY: Readonly<Record<string, string>> = {
  KAFKA_SECURITY_PROTOCOL: 'kafkaSecurityProtocol',
  KAFKA_SASL_MECHANISM: 'kafkaSaslMechanism',
  KAFKA_SECRET_ARN: 'kafkaSecretArn',
  KAFKA_BOOTSTRAP_SERVERS: 'kafkaBootstrapServers',
}

/**
 * Loads the function's environment with the function's own config schema, so a combination it
 * would refuse at its first invocation (SASL without a mechanism, MSK IAM without TLS, ...) fails
 * the synthesis instead. Values only known at deploy time stand in as placeholders.
 */
function checkAsTheFunctionWould(environment: Record<string, string>, tableName: string): void {
  const resolved: Record<string, string> = { AWS_REGION: 'us-east-1' }
  for (const [key, value] of Object.entries(environment)) {
    if (!Token.isUnresolved(value)) resolved[key] = value
    else if (key === settings.dynamodbTable.key) resolved[key] = tableName
  }
  try {
    loadConfig(resolved)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const [first] = error.problems
    throw new InvalidConstructPropError(
      (first && PROP_OF_KEY[first.key]) ?? 'environment',
      first?.value,
      `a configuration the function accepts; at its first invocation it would refuse it with:\n${error.message}`,
    )
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

/** An SQS queue as the checks want it: encrypted at rest (SQS-managed keys) and reachable over TLS only. */
function secureQueue(
  scope: Construct,
  id: string,
  queueName: string,
  maxMessageSizeBytes?: number,
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    queueName,
    ...(maxMessageSizeBytes !== undefined && { maxMessageSizeBytes }),
    // SQS-managed keys, not the AWS managed KMS key aws/sqs: EventBridge could not send a rule's
    // dead letters to a queue under aws/sqs, whose key policy no service principal can be granted.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  })
  skipCheckov(queue, [
    {
      id: 'CKV_AWS_27',
      comment:
        'Encrypted at rest with SQS-managed server-side encryption (SqsManagedSseEnabled: true), which this check does not recognize.',
    },
  ])
  return queue
}

export interface MskClusterArn {
  readonly partition: string
  readonly region: string
  readonly account: string
  readonly name: string
  readonly uuid: string
}

/** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`, the format in the MSK IAM access-control docs. */
export function parseMskClusterArn(arn: string): MskClusterArn {
  const match = /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/.exec(arn)
  if (!match) {
    throw new InvalidConstructPropError(
      'mskClusterArn',
      arn,
      'arn:aws:kafka:<region>:<account>:cluster/<cluster-name>/<cluster-uuid>',
    )
  }
  const [, partition, region, account, name, uuid] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  return { partition, region, account, name, uuid }
}

/** The region field of an ARN (`arn:aws:secretsmanager:eu-west-1:...`), or `fallback` for a token. */
function regionOfArn(arn: string, fallback: string): string {
  if (Token.isUnresolved(arn)) return fallback
  const region = arn.split(':')[3]
  return region === undefined || region === '' ? fallback : region
}

/** Every prop checked before anything is built; the first bad one is reported by name. */
function validate(props: ScheduledKafkaConsumerProps): Resolved {
  const config = {
    ...DEFAULTS,
    invocationDeadLetterQueue: true,
    messageDeadLetterQueue: true,
    dynamoDbGatewayEndpoint: true,
    secretsManagerEndpoint: false,
    sqsEndpoint: false,
    tableRemovalPolicy: RemovalPolicy.RETAIN,
    ...definedOnly(props),
  } as Resolved
  const architecture = config.architecture
  const withPaths: Resolved = {
    ...config,
    bundlePath: config.bundlePath ?? resolve(repositoryRoot, 'dist/lambda'),
    layerPath: config.layerPath ?? resolve(repositoryRoot, 'dist/layer', architecture),
  }

  const checkSetting = (
    prop: string,
    value: string | undefined,
    spec: (typeof settings)[keyof typeof settings],
  ) => {
    if (value === undefined || Token.isUnresolved(value)) return
    if (!spec.schema.safeParse(value).success) throw new InvalidConstructPropError(prop, value, spec.expected)
  }
  if (typeof props.kafkaBootstrapServers !== 'string' || props.kafkaBootstrapServers.trim() === '') {
    throw new InvalidConstructPropError(
      'kafkaBootstrapServers',
      props.kafkaBootstrapServers,
      settings.kafkaBootstrapServers.expected,
    )
  }
  if (typeof props.kafkaTopic !== 'string' || props.kafkaTopic.trim() === '') {
    throw new InvalidConstructPropError('kafkaTopic', props.kafkaTopic, settings.kafkaTopic.expected)
  }
  checkSetting('kafkaBootstrapServers', withPaths.kafkaBootstrapServers, settings.kafkaBootstrapServers)
  checkSetting('kafkaTopic', withPaths.kafkaTopic, settings.kafkaTopic)
  checkSetting('kafkaGroupId', withPaths.kafkaGroupId, settings.kafkaGroupId)
  checkSetting('tableName', withPaths.tableName, settings.dynamodbTable)
  checkSetting('startPosition', withPaths.startPosition, settings.startPosition)

  // Room for the `-{index}` suffix of shards and the `-messages-dlq` queue name (80 characters at most).
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(withPaths.functionName)) {
    throw new InvalidConstructPropError(
      'functionName',
      withPaths.functionName,
      '1 to 50 of a-z A-Z 0-9 _ - (Lambda allows 64; the rest is kept for shard and queue suffixes)',
    )
  }
  if (!['arm64', 'x86_64'].includes(architecture)) {
    throw new InvalidConstructPropError('architecture', architecture, "'arm64' or 'x86_64'")
  }
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(withPaths.logLevel)) {
    throw new InvalidConstructPropError('logLevel', withPaths.logLevel, 'one of DEBUG, INFO, WARN, ERROR')
  }
  checkInteger('memorySizeInMb', withPaths.memorySizeInMb, 128, 10_240)
  checkInteger('maxMessages', withPaths.maxMessages, 1, 10_000_000)
  checkInteger('scheduleRetryAttempts', withPaths.scheduleRetryAttempts, 0, 185)
  checkInteger('asyncRetryAttempts', withPaths.asyncRetryAttempts, 0, 2)
  checkInteger('shards', withPaths.shards, 1, 100)
  if (withPaths.reservedConcurrency !== false) {
    checkInteger('reservedConcurrency', withPaths.reservedConcurrency, 1, 1000)
  }
  const timeoutInSeconds = withPaths.timeout.toSeconds()
  if (!Number.isInteger(timeoutInSeconds) || timeoutInSeconds < 30 || timeoutInSeconds > 900) {
    throw new InvalidConstructPropError(
      'timeout',
      `${timeoutInSeconds} s`,
      'whole seconds from 30 s to 15 minutes (the run keeps a 10 s margin to save its offsets)',
    )
  }
  const scheduleAgeInSeconds = withPaths.scheduleMaxEventAge.toSeconds()
  if (scheduleAgeInSeconds < 60 || scheduleAgeInSeconds > 86_400) {
    throw new InvalidConstructPropError(
      'scheduleMaxEventAge',
      `${scheduleAgeInSeconds} s`,
      '60 s to 24 hours',
    )
  }
  const asyncAgeInSeconds = withPaths.asyncMaxEventAge.toSeconds()
  if (asyncAgeInSeconds < 60 || asyncAgeInSeconds > 21_600) {
    throw new InvalidConstructPropError('asyncMaxEventAge', `${asyncAgeInSeconds} s`, '60 s to 6 hours')
  }
  if (!['scheduler', 'rule'].includes(withPaths.scheduleKind)) {
    throw new InvalidConstructPropError('scheduleKind', withPaths.scheduleKind, "'scheduler' or 'rule'")
  }
  if (!/^(cron|rate)\(.+\)$/.test(withPaths.scheduleExpression)) {
    throw new InvalidConstructPropError(
      'scheduleExpression',
      withPaths.scheduleExpression,
      "a cron(...) or rate(...) expression, e.g. 'cron(* * * * ? *)'",
    )
  }
  if (withPaths.kafkaSecretArn !== undefined && !Token.isUnresolved(withPaths.kafkaSecretArn)) {
    if (
      !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(
        withPaths.kafkaSecretArn,
      )
    ) {
      throw new InvalidConstructPropError(
        'kafkaSecretArn',
        withPaths.kafkaSecretArn,
        "a secret's full ARN, with its 6-character suffix: arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf",
      )
    }
  }
  if (withPaths.kafkaSecretKeyArn !== undefined) {
    if (withPaths.kafkaSecretArn === undefined) {
      throw new InvalidConstructPropError(
        'kafkaSecretKeyArn',
        withPaths.kafkaSecretKeyArn,
        'to be set only with kafkaSecretArn',
      )
    }
    if (
      !Token.isUnresolved(withPaths.kafkaSecretKeyArn) &&
      !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(withPaths.kafkaSecretKeyArn)
    ) {
      throw new InvalidConstructPropError(
        'kafkaSecretKeyArn',
        withPaths.kafkaSecretKeyArn,
        'a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key-id>',
      )
    }
  }
  if (withPaths.mskClusterArn !== undefined) parseMskClusterArn(withPaths.mskClusterArn)
  if (!withPaths.vpc) {
    for (const prop of ['vpcSubnets', 'securityGroups', 'secretsManagerEndpoint', 'sqsEndpoint'] as const) {
      if (props[prop] !== undefined && props[prop] !== false) {
        throw new InvalidConstructPropError(prop, '(set)', 'to be set only with vpc')
      }
    }
  }
  // Set by the construct from props; the environment prop may not redefine them.
  const managedKeys = new Set<string>([
    settings.kafkaBootstrapServers.key,
    settings.kafkaTopic.key,
    settings.kafkaGroupId.key,
    settings.dynamodbTable.key,
    settings.maxMessages.key,
    settings.startPosition.key,
    settings.logLevel.key,
    'DEAD_LETTER_QUEUE_URL',
    'KAFKA_SECRET_ARN',
    'KAFKA_SECURITY_PROTOCOL',
    'KAFKA_SASL_MECHANISM',
    'SHARD_COUNT',
    'SHARD_INDEX',
    'PUBLISH_METRICS',
  ])
  for (const key of Object.keys(withPaths.environment ?? {})) {
    if (managedKeys.has(key)) {
      throw new InvalidConstructPropError(
        'environment',
        key,
        'variables the construct does not set itself; use the matching prop instead',
      )
    }
  }
  for (const [prop, path, inside, build] of [
    ['bundlePath', withPaths.bundlePath, 'index.mjs', 'npm run build'],
    [
      'layerPath',
      withPaths.layerPath,
      'nodejs/node_modules',
      `node scripts/build-layer.ts --arch ${architecture}`,
    ],
  ] as const) {
    if (!existsSync(resolve(path, inside))) {
      throw new InvalidConstructPropError(
        prop,
        path,
        `a folder holding ${inside}: build it with \`${build}\``,
      )
    }
  }
  return withPaths
}

function checkInteger(prop: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidConstructPropError(prop, value, `a whole number from ${min} to ${max}`)
  }
}

/** Props explicitly set to `undefined` must not erase the defaults. */
function definedOnly<T extends object>(props: T): Partial<T> {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as Partial<T>
}
