/**
 * The construct's props, their construct-only defaults (Lambda, Scheduler and SQS settings), and
 * their validation before anything is built. Whatever is also a setting of the function
 * (`KAFKA_TOPIC`, `MAX_MESSAGES`, `LOG_LEVEL`, ...) is checked against the one config schema in
 * src/config, with its words, and is left unset when not given so that the schema's default
 * applies: no default of the function is declared twice.
 */
import { type Duration, Duration as Durations, RemovalPolicy, Token } from 'aws-cdk-lib'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import type * as ec2 from 'aws-cdk-lib/aws-ec2'
import type * as kms from 'aws-cdk-lib/aws-kms'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import * as logs from 'aws-cdk-lib/aws-logs'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { type Config, type SaslMechanism, type SecurityProtocol, settings } from '../src/config/schema.ts'
import type { ConsumerMonitoringOptions } from './consumer-monitoring.ts'
import { InvalidConstructPropError } from './errors.ts'

export type ScheduleKind = 'scheduler' | 'rule'

export interface ScheduledKafkaConsumerProps {
  /** Comma-separated Kafka brokers, `host:port` (env `KAFKA_BOOTSTRAP_SERVERS`). Required. */
  readonly kafkaBootstrapServers: string
  /** The topic to consume, every partition of it (env `KAFKA_TOPIC`). Required. */
  readonly kafkaTopic: string
  /**
   * Names the consumer: offsets are stored under `{group_id}_{topic}` (env `KAFKA_GROUP_ID`).
   * @default - the function's default, 'lambda-consumer-group'
   */
  readonly kafkaGroupId?: string

  /**
   * Your handler file, TypeScript or JavaScript, exporting `handler` (made with `createHandler`).
   * Bundled at synthesis with the esbuild of your project (locally, no Docker) into `index.mjs`
   * and `chunks/` (the code only some settings use, loaded only then), the Kafka client left out:
   * it comes from the construct's layer.
   * @default - the package's logging handler (`lambda-kafka-consumer/default-handler`)
   */
  readonly entry?: string
  /** The exported function's name in `entry` (or `file.export` of `code`). @default 'handler' ('index.handler' with code) */
  readonly handler?: string
  /**
   * More esbuild settings for `entry`, as NodejsFunction takes them (yours win, except what is
   * built and where: ES modules, split into `index.mjs` and `chunks/`). Refused: `nodeModules`,
   * `commandHooks`, `preCompilation` and Docker, which need NodejsFunction's own steps.
   * @default - none
   */
  readonly bundling?: nodejs.BundlingOptions
  /** Instead of `entry`: a bundle you built, e.g. `lambda.Code.fromAsset('dist/lambda')`. @default - bundle `entry` */
  readonly code?: lambda.Code
  /** The layer that provides `@platformatic/kafka`. @default - built at synthesis from the installed client */
  readonly kafkaClientLayer?: lambda.ILayerVersion

  /**
   * The function's name; with `shards` > 1 each shard's is `{functionName}-{index}`. When set, it
   * also names the log group (`/aws/lambda/...`), the queues and the layer.
   * @default - names chosen by CloudFormation, from the construct's path
   */
  readonly functionName?: string
  /** @default lambda.Architecture.ARM_64 (20% less per GB-second than x86_64) */
  readonly architecture?: lambda.Architecture
  /** The function's memory, in MB. @default 512 */
  readonly memorySize?: number
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration
  /** The most messages one invocation processes (env `MAX_MESSAGES`). @default - the function's, 1000 */
  readonly maxMessages?: number
  /** Where a partition with no stored offset starts (env `START_POSITION`). @default - the function's, 'earliest' */
  readonly startPosition?: Config['startPosition']
  /** With `startPosition: 'timestamp'`: the ISO-8601 time partitions start from (env `START_TIMESTAMP`). @default - none */
  readonly startTimestamp?: string
  /** Env `LOG_LEVEL`. @default - the function's, 'INFO' */
  readonly logLevel?: Config['logLevel']
  /**
   * More environment variables for the function (e.g. `FETCH_MAX_BYTES`). May not redefine one the
   * construct sets from a prop.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>

  /** When to invoke. @default - every minute, `cron(* * * * ? *)` (the seed's) */
  readonly schedule?: scheduler.ScheduleExpression
  /**
   * `scheduler`: an EventBridge Scheduler schedule (AWS's successor to scheduled rules) with a retry
   * policy and the dead-letter queue. `rule`: a classic EventBridge rule, exactly as in the seed.
   * @default 'scheduler'
   */
  readonly scheduleKind?: ScheduleKind
  /** How many times the schedule retries an invocation Lambda refused. @default 2 */
  readonly scheduleRetryAttempts?: number
  /** How long the schedule keeps retrying one event; a newer one comes every minute. @default Duration.minutes(2) */
  readonly scheduleMaxEventAge?: Duration
  /**
   * Reserved concurrency; 1 means two runs never overlap (they would fetch the same offsets).
   * `false` leaves the function unreserved.
   * @default 1
   */
  readonly reservedConcurrency?: number | false
  /** An SQS queue for failed invocations: the on-failure destination and the schedule's dead-letter queue. @default true */
  readonly invocationDeadLetterQueue?: boolean
  /** Lambda's own retries of a failed asynchronous invocation; the next scheduled run is the retry. @default 0 */
  readonly asyncRetryAttempts?: number
  /** How long an invocation event may wait before Lambda drops it to the on-failure destination. @default Duration.minutes(10) */
  readonly asyncMaxEventAge?: Duration
  /** An SQS queue for messages the processor gave up on (env `DEAD_LETTER_QUEUE_URL`). @default true */
  readonly messageDeadLetterQueue?: boolean

  /** Places the function in this VPC (for a private Kafka cluster). @default - not in a VPC */
  readonly vpc?: ec2.IVpc
  /** @default - the VPC's private subnets, else its isolated ones (CDK's default selection) */
  readonly vpcSubnets?: ec2.SubnetSelection
  /** @default - a new security group allowing all outbound traffic and no inbound */
  readonly securityGroups?: readonly ec2.ISecurityGroup[]
  /** With `vpc`: a DynamoDB gateway endpoint (free), shared by the consumers in that VPC. @default true with `vpc` */
  readonly dynamoDbGatewayEndpoint?: boolean
  /** With `vpc`: a Secrets Manager interface endpoint (billed hourly). @default false */
  readonly secretsManagerEndpoint?: boolean
  /** With `vpc`: an SQS interface endpoint (billed hourly), for the message dead-letter queue. @default false */
  readonly sqsEndpoint?: boolean

  /**
   * The Secrets Manager secret holding the Kafka credentials (env `KAFKA_SECRET_ARN`); the role
   * may `secretsmanager:GetSecretValue` on it only, and decrypt with its key through Secrets Manager.
   * @default - no secret
   */
  readonly kafkaSecret?: secretsmanager.ISecret
  /** Or the secret's full ARN, with its 6-character suffix. @default - no secret */
  readonly kafkaSecretArn?: string
  /** The customer-managed KMS key of the secret. @default - `kafkaSecret.encryptionKey`, else none (the AWS managed key needs no grant) */
  readonly kafkaSecretKey?: kms.IKey
  /** Env `KAFKA_SECURITY_PROTOCOL`. @default - the function's, 'PLAINTEXT'; 'SASL_SSL' with `mskClusterArn` */
  readonly kafkaSecurityProtocol?: SecurityProtocol
  /** Env `KAFKA_SASL_MECHANISM`. @default - none; 'AWS_MSK_IAM' with `mskClusterArn` */
  readonly kafkaSaslMechanism?: SaslMechanism
  /**
   * An Amazon MSK cluster with IAM authentication: the role may `kafka-cluster:Connect` to it and
   * `DescribeTopic`, `ReadData` on `kafkaTopic` only.
   * @default - no MSK IAM permissions
   */
  readonly mskClusterArn?: string

  /** An existing offsets table (the seed's keys: `consumer_id` S, `partition` N). @default - a new table */
  readonly table?: dynamodb.ITable
  /** The new table's name. @default - chosen by CloudFormation */
  readonly tableName?: string
  /** Encrypts the new table with a customer-managed KMS key: `true` creates one (rotated yearly), or pass yours. @default - DynamoDB's own key */
  readonly tableEncryptionKey?: boolean | kms.IKey
  /** @default RemovalPolicy.RETAIN (offsets outlive the stack) */
  readonly tableRemovalPolicy?: RemovalPolicy
  /** @default logs.RetentionDays.ONE_WEEK (the seed's choice) */
  readonly logRetention?: logs.RetentionDays
  /** N functions, each with its own schedule, reading a disjoint share of the partitions. @default 1 */
  readonly shards?: number
  /**
   * Alarms (function errors, lag rising, a dead letter, duration near the timeout, no successful
   * run) on Lambda's free metrics and two custom ones, optionally a dashboard and notifications;
   * `false` for none (the function then publishes no metric).
   * @default - the alarms, no dashboard, no notifications
   */
  readonly monitoring?: ConsumerMonitoringOptions | false
}

/** The props with the construct's own defaults filled in, the derived settings beside them. */
export interface ResolvedProps extends ScheduledKafkaConsumerProps {
  readonly architecture: lambda.Architecture
  readonly memorySize: number
  readonly timeout: Duration
  readonly schedule: scheduler.ScheduleExpression
  readonly scheduleKind: ScheduleKind
  readonly scheduleRetryAttempts: number
  readonly scheduleMaxEventAge: Duration
  readonly reservedConcurrency: number | false
  readonly invocationDeadLetterQueue: boolean
  readonly asyncRetryAttempts: number
  readonly asyncMaxEventAge: Duration
  readonly messageDeadLetterQueue: boolean
  readonly dynamoDbGatewayEndpoint: boolean
  readonly secretsManagerEndpoint: boolean
  readonly sqsEndpoint: boolean
  readonly tableRemovalPolicy: RemovalPolicy
  readonly logRetention: logs.RetentionDays
  readonly shards: number
  /** From `kafkaSecret` or `kafkaSecretArn`. */
  readonly secretArn?: string
  /** From `kafkaSecretKey`, else the secret's own key. */
  readonly secretKey?: kms.IKey
  /** The prop or, with `mskClusterArn`, MSK IAM's. */
  readonly securityProtocol?: SecurityProtocol
  readonly saslMechanism?: SaslMechanism
}

/** The construct's own defaults: Lambda, Scheduler and SQS settings, none of them the function's. */
const CONSTRUCT_DEFAULTS = {
  architecture: lambda.Architecture.ARM_64,
  memorySize: 512,
  timeout: Durations.minutes(5),
  schedule: scheduler.ScheduleExpression.expression('cron(* * * * ? *)'),
  scheduleKind: 'scheduler',
  scheduleRetryAttempts: 2,
  scheduleMaxEventAge: Durations.minutes(2),
  reservedConcurrency: 1,
  invocationDeadLetterQueue: true,
  asyncRetryAttempts: 0,
  asyncMaxEventAge: Durations.minutes(10),
  messageDeadLetterQueue: true,
  secretsManagerEndpoint: false,
  sqsEndpoint: false,
  tableRemovalPolicy: RemovalPolicy.RETAIN,
  logRetention: logs.RetentionDays.ONE_WEEK,
  shards: 1,
} as const

type SettingSpec = (typeof settings)[keyof typeof settings]

/** Every prop checked before anything is built; the first bad one is reported by name. */
export function resolveProps(props: ScheduledKafkaConsumerProps): ResolvedProps {
  const given = definedOnly(props)
  const resolved = {
    ...CONSTRUCT_DEFAULTS,
    dynamoDbGatewayEndpoint: props.vpc !== undefined,
    ...given,
  } as ResolvedProps

  // What the function reads too: the config schema's own rules and words.
  for (const prop of ['kafkaBootstrapServers', 'kafkaTopic'] as const) {
    const value: unknown = props[prop]
    if (typeof value !== 'string' || value.trim() === '') {
      throw new InvalidConstructPropError(prop, value, settingOf(prop).expected)
    }
  }
  checkSetting('kafkaBootstrapServers', props.kafkaBootstrapServers, settings.kafkaBootstrapServers)
  checkSetting('kafkaTopic', props.kafkaTopic, settings.kafkaTopic)
  checkSetting('kafkaGroupId', props.kafkaGroupId, settings.kafkaGroupId)
  checkSetting('tableName', props.tableName, settings.dynamodbTable)
  checkSetting('startPosition', props.startPosition, settings.startPosition)
  checkSetting('startTimestamp', props.startTimestamp, settings.startTimestamp)
  checkSetting('logLevel', props.logLevel, settings.logLevel)
  checkSetting('kafkaSecurityProtocol', props.kafkaSecurityProtocol, settings.kafkaSecurityProtocol)
  checkSetting('kafkaSaslMechanism', props.kafkaSaslMechanism, settings.kafkaSaslMechanism)
  checkSetting(
    'maxMessages',
    props.maxMessages === undefined ? undefined : String(props.maxMessages),
    settings.maxMessages,
  )

  // Room for the `-{index}` suffix of shards and the `-messages-dlq` queue name (80 characters at most).
  if (props.functionName !== undefined && !/^[A-Za-z0-9_-]{1,50}$/.test(props.functionName)) {
    throw new InvalidConstructPropError(
      'functionName',
      props.functionName,
      '1 to 50 of a-z A-Z 0-9 _ - (Lambda allows 64; the rest is kept for shard and queue suffixes)',
    )
  }
  if (!['arm64', 'x86_64'].includes(resolved.architecture.name)) {
    throw new InvalidConstructPropError(
      'architecture',
      resolved.architecture.name,
      'lambda.Architecture.ARM_64 or lambda.Architecture.X86_64',
    )
  }
  checkInteger('memorySize', resolved.memorySize, 128, 10_240)
  checkInteger('scheduleRetryAttempts', resolved.scheduleRetryAttempts, 0, 185)
  checkInteger('asyncRetryAttempts', resolved.asyncRetryAttempts, 0, 2)
  checkInteger('shards', resolved.shards, 1, 100)
  if (resolved.reservedConcurrency !== false) {
    checkInteger('reservedConcurrency', resolved.reservedConcurrency, 1, 1000)
  }
  const timeoutInSeconds = resolved.timeout.toSeconds()
  if (!Number.isInteger(timeoutInSeconds) || timeoutInSeconds < 30 || timeoutInSeconds > 900) {
    throw new InvalidConstructPropError(
      'timeout',
      `${timeoutInSeconds} s`,
      'whole seconds from 30 s to 15 minutes (the run keeps a 10 s margin to save its offsets)',
    )
  }
  checkAge('scheduleMaxEventAge', resolved.scheduleMaxEventAge, 86_400, '60 s to 24 hours')
  checkAge('asyncMaxEventAge', resolved.asyncMaxEventAge, 21_600, '60 s to 6 hours')
  if (!['scheduler', 'rule'].includes(resolved.scheduleKind)) {
    throw new InvalidConstructPropError('scheduleKind', resolved.scheduleKind, "'scheduler' or 'rule'")
  }
  if (resolved.scheduleKind === 'rule' && !isUtc(resolved.schedule)) {
    throw new InvalidConstructPropError(
      'schedule',
      resolved.schedule.expressionString,
      "a schedule without a time zone with scheduleKind 'rule' (EventBridge rules run in UTC)",
    )
  }
  if (!/^(cron|rate)\(.+\)$/.test(resolved.schedule.expressionString)) {
    throw new InvalidConstructPropError(
      'schedule',
      resolved.schedule.expressionString,
      'a recurring cron(...) or rate(...) expression, e.g. ScheduleExpression.rate(Duration.minutes(1))',
    )
  }

  // Where the code comes from: one of entry and code.
  if (props.entry !== undefined && props.code !== undefined) {
    throw new InvalidConstructPropError('code', '(set)', 'to be set without entry: one or the other')
  }
  if (props.bundling !== undefined && props.code !== undefined) {
    throw new InvalidConstructPropError(
      'bundling',
      '(set)',
      'to be set only with entry (code is already built)',
    )
  }

  // The secret: one of the two forms, its key only with it.
  if (props.kafkaSecret !== undefined && props.kafkaSecretArn !== undefined) {
    throw new InvalidConstructPropError(
      'kafkaSecretArn',
      props.kafkaSecretArn,
      'to be set without kafkaSecret',
    )
  }
  if (props.kafkaSecretArn !== undefined && !Token.isUnresolved(props.kafkaSecretArn)) {
    if (
      !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(props.kafkaSecretArn)
    ) {
      throw new InvalidConstructPropError(
        'kafkaSecretArn',
        props.kafkaSecretArn,
        "a secret's full ARN, with its 6-character suffix: arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf (or pass the secret as kafkaSecret)",
      )
    }
  }
  const secretArn = props.kafkaSecret?.secretArn ?? props.kafkaSecretArn
  if (props.kafkaSecretKey !== undefined && secretArn === undefined) {
    throw new InvalidConstructPropError(
      'kafkaSecretKey',
      '(set)',
      'to be set only with kafkaSecret or kafkaSecretArn',
    )
  }
  if (props.mskClusterArn !== undefined) parseMskClusterArn(props.mskClusterArn)

  // An existing table comes as it is.
  if (props.table !== undefined) {
    for (const prop of ['tableName', 'tableEncryptionKey', 'tableRemovalPolicy'] as const) {
      if (props[prop] !== undefined) {
        throw new InvalidConstructPropError(prop, '(set)', 'to be set only for a new table, not with table')
      }
    }
  }
  if (!props.vpc) {
    for (const prop of [
      'vpcSubnets',
      'securityGroups',
      'secretsManagerEndpoint',
      'sqsEndpoint',
      'dynamoDbGatewayEndpoint',
    ] as const) {
      if (props[prop] !== undefined && props[prop] !== false) {
        throw new InvalidConstructPropError(prop, '(set)', 'to be set only with vpc')
      }
    }
  }

  const securityProtocol = props.kafkaSecurityProtocol ?? (props.mskClusterArn ? 'SASL_SSL' : undefined)
  const saslMechanism = props.kafkaSaslMechanism ?? (props.mskClusterArn ? 'AWS_MSK_IAM' : undefined)
  const secretKey = props.kafkaSecretKey ?? props.kafkaSecret?.encryptionKey
  return {
    ...resolved,
    ...(secretArn !== undefined && { secretArn }),
    ...(secretKey !== undefined && { secretKey }),
    ...(securityProtocol !== undefined && { securityProtocol }),
    ...(saslMechanism !== undefined && { saslMechanism }),
  }
}

/** `ScheduleExpression.expression()` says UTC when given no zone: EventBridge rules' only one. */
export function isUtc(schedule: scheduler.ScheduleExpression): boolean {
  return schedule.timeZone === undefined || ['UTC', 'Etc/UTC'].includes(schedule.timeZone.timezoneName)
}

function settingOf(prop: 'kafkaBootstrapServers' | 'kafkaTopic'): SettingSpec {
  return settings[prop]
}

function checkSetting(prop: string, value: string | undefined, spec: SettingSpec): void {
  if (value === undefined || Token.isUnresolved(value)) return
  if (!spec.schema.safeParse(value).success) throw new InvalidConstructPropError(prop, value, spec.expected)
}

function checkInteger(prop: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidConstructPropError(prop, value, `a whole number from ${min} to ${max}`)
  }
}

function checkAge(prop: string, age: Duration, maxSeconds: number, expected: string): void {
  const seconds = age.toSeconds()
  if (seconds < 60 || seconds > maxSeconds)
    throw new InvalidConstructPropError(prop, `${seconds} s`, expected)
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
  const [, partition = '', region = '', account = '', name = '', uuid = ''] = match
  return { partition, region, account, name, uuid }
}

/** Props explicitly set to `undefined` must not erase the defaults. */
function definedOnly<T extends object>(props: T): Partial<T> {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as Partial<T>
}
