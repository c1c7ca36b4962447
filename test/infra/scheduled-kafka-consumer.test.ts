/**
 * The construct's synthesized template, property by property: what the seed asks for by default,
 * each option of its "consider adding" list, and the validation of every prop. No snapshots.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Duration, Stack } from 'aws-cdk-lib'
import { Match } from 'aws-cdk-lib/assertions'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as kms from 'aws-cdk-lib/aws-kms'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as scheduler from 'aws-cdk-lib/aws-scheduler'
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager'
import { describe, expect, it } from 'vitest'
import { parseMskClusterArn } from '../../infra/consumer-props.ts'
import { InvalidConstructPropError } from '../../infra/errors.ts'
import type { ScheduledKafkaConsumerProps } from '../../infra/scheduled-kafka-consumer.ts'
import {
  actionsOf,
  importedVpc,
  MSK_ARN,
  nagFindings,
  ORDERS_HANDLER_ENTRY,
  REQUIRED,
  SECRET_ARN,
  SECRET_KEY_ARN,
  type Statement,
  type Synthesized,
  statementsOf,
  synthesize,
  synthesizeInStack,
  twoConsumersInOneStack,
} from './support.ts'

/** The logical id of the only resource of a type whose id starts with a prefix. */
function logicalId(template: ReturnType<typeof synthesize>['template'], type: string, prefix = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix))
  expect(ids, `${type} ${prefix}`).toHaveLength(1)
  return ids[0]!
}

const byAction = (statements: Statement[]) =>
  statements
    .map((statement) => ({ actions: actionsOf(statement).sort(), resource: statement.Resource }))
    .sort((a, b) => a.actions[0]!.localeCompare(b.actions[0]!))

describe('ScheduledKafkaConsumer, by default (the seed)', () => {
  const { template } = synthesize()
  const functionId = logicalId(template, 'AWS::Lambda::Function')
  const tableId = logicalId(template, 'AWS::DynamoDB::Table')
  const layerId = logicalId(template, 'AWS::Lambda::LayerVersion')
  const logGroupId = logicalId(template, 'AWS::Logs::LogGroup')
  const queueId = logicalId(template, 'AWS::SQS::Queue', 'ConsumerDeadLetterQueue')
  const messageQueueId = logicalId(template, 'AWS::SQS::Queue', 'ConsumerMessageDeadLetterQueue')

  it('creates the function kafka-consumer-lambda: Node.js 24 on arm64, 512 MB, 5 minutes, reserved concurrency 1', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'kafka-consumer-lambda',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 300,
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 1,
      Layers: [{ Ref: layerId }],
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    })
  })

  it('configures the function with the environment variables of the config schema', () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId]!
    // Only what a prop sets: the rest is the function's own defaults (src/config/schema.ts).
    expect(fn.Properties.Environment.Variables).toEqual({
      KAFKA_BOOTSTRAP_SERVERS: REQUIRED.kafkaBootstrapServers,
      KAFKA_TOPIC: 'orders',
      DYNAMODB_TABLE: { Ref: tableId },
      DEAD_LETTER_QUEUE_URL: { Ref: messageQueueId },
      POWERTOOLS_SERVICE_NAME: 'kafka-consumer-lambda',
    })
  })

  it('attaches a layer for nodejs24.x on arm64', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs24.x'],
      CompatibleArchitectures: ['arm64'],
      LayerName: 'kafka-consumer-lambda-kafka-client',
    })
  })

  it("creates the table kafka-consumer-offsets with the seed's keys, on demand, with PITR, retained", () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: 'kafka-consumer-offsets',
        KeySchema: [
          { AttributeName: 'consumer_id', KeyType: 'HASH' },
          { AttributeName: 'partition', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'consumer_id', AttributeType: 'S' },
          { AttributeName: 'partition', AttributeType: 'N' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // Encryption at rest with the key DynamoDB owns: no SSESpecification at all.
        SSESpecification: Match.absent(),
      },
    })
    template.resourceCountIs('AWS::KMS::Key', 0)
  })

  it('invokes the function every minute through EventBridge Scheduler, with a retry policy and the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'kafka-consumer-lambda',
      ScheduleExpression: 'cron(* * * * ? *)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      },
    })
    template.resourceCountIs('AWS::Events::Rule', 0)
    template.resourceCountIs('AWS::Lambda::Permission', 0)
  })

  it('gives the schedule a role that Scheduler assumes for this schedule only, to invoke this function only', () => {
    const roleId = logicalId(template, 'AWS::IAM::Role', 'ConsumerScheduleRole')
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': Match.objectLike({
                  'Fn::Join': ['', Match.arrayWith([':schedule/default/kafka-consumer-lambda'])],
                }),
              },
            },
          },
        ],
      },
    })
    expect(byAction(statementsOf(template, roleId))).toEqual([
      { actions: ['lambda:InvokeFunction'], resource: { 'Fn::GetAtt': [functionId, 'Arn'] } },
      { actions: ['sqs:SendMessage'], resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ])
  })

  it('creates the log group /aws/lambda/kafka-consumer-lambda with one-week retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/kafka-consumer-lambda',
      RetentionInDays: 7,
    })
  })

  it("grants the function exactly the seed's permissions its code uses, each on its own resource", () => {
    const statements = statementsOf(template, 'ConsumerExecutionRole')
    expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true)
    expect(byAction(statements)).toEqual([
      {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      },
      {
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
      // The on-failure destination (CDK's grant for Lambda destinations).
      {
        actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      },
      { actions: ['sqs:SendMessage'], resource: { 'Fn::GetAtt': [messageQueueId, 'Arn'] } },
    ])
    const allActions = statements.flatMap(actionsOf)
    expect(allActions).not.toContain('logs:CreateLogGroup')
    expect(allActions).not.toContain('dynamodb:Scan')
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0)
  })

  it('has no IAM statement on Resource "*" (outside a VPC)', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    const resources = policies.flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((statement) => statement.Resource),
    )
    expect(resources.length).toBeGreaterThan(0)
    expect(resources).not.toContain('*')
  })

  it('sends failed asynchronous invocations to an encrypted, TLS-only dead-letter queue, without Lambda retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    })
    for (const [id, name] of [
      [queueId, 'kafka-consumer-lambda-dlq'],
      [messageQueueId, 'kafka-consumer-lambda-messages-dlq'],
    ] as const) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: name,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      })
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      })
    }
  })
  it("lets the message dead-letter queue hold a whole 1 MiB dead letter (SQS's largest)", () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'kafka-consumer-lambda-messages-dlq',
      MaximumMessageSize: 1_048_576,
    })
  })

  it('outputs the function, table, layer, schedule, log group and dead-letter queue', () => {
    const outputs = template.findOutputs('*')
    expect(Object.keys(outputs).sort()).toEqual([
      'DeadLetterQueueUrl',
      'FunctionName',
      'LayerArn',
      'LogGroupName',
      'MessageDeadLetterQueueUrl',
      'ScheduleName',
      'TableName',
    ])
    expect(outputs.ScheduleName!.Value).toBe('kafka-consumer-lambda')
    expect(outputs.TableName!.Value).toEqual({ Ref: tableId })
    expect(outputs.LayerArn!.Value).toEqual({ Ref: layerId })
    expect(outputs.LogGroupName!.Value).toEqual({ Ref: logGroupId })
    expect(outputs.DeadLetterQueueUrl!.Value).toEqual({ Ref: queueId })
  })

  it('places the function in no VPC and needs no NAT, no endpoint, no EC2 permission', () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId]!
    expect(fn.Properties.VpcConfig).toBeUndefined()
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0)
    expect(
      statementsOf(template, 'ConsumerExecutionRole')
        .flatMap(actionsOf)
        .some((a) => a.startsWith('ec2:')),
    ).toBe(false)
  })
})

describe('ScheduledKafkaConsumer options', () => {
  it('runs on x86_64 with a layer built for x86_64', () => {
    const { template } = synthesize({ architecture: lambda.Architecture.X86_64 })
    template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] })
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['x86_64'] })
  })

  it("uses a classic EventBridge rule cron(* * * * ? *) whose invoke permission is scoped to the rule's ARN", () => {
    const { template } = synthesize({ scheduleKind: 'rule' })
    const ruleId = logicalId(template, 'AWS::Events::Rule')
    const functionId = logicalId(template, 'AWS::Lambda::Function')
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'kafka-consumer-lambda',
      ScheduleExpression: 'cron(* * * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
        }),
      ],
    })
    template.resourceCountIs('AWS::Lambda::Permission', 1)
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    })
    template.resourceCountIs('AWS::Scheduler::Schedule', 0)
  })

  it('encrypts the table with a new customer-managed KMS key, rotated, and lets the role use that key only', () => {
    const { template } = synthesize({ tableEncryptionKey: true })
    const keyId = logicalId(template, 'AWS::KMS::Key')
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true })
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
    })
    const keyStatements = statementsOf(template, 'ConsumerExecutionRole').filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('kms:')),
    )
    expect(keyStatements).toHaveLength(1)
    expect(keyStatements[0]!.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] })
    expect(actionsOf(keyStatements[0]!).sort()).toEqual([
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey*',
      'kms:ReEncrypt*',
    ])
  })

  it('reads Kafka credentials from one secret: env KAFKA_SECRET_ARN, GetSecretValue on it, Decrypt with its key via Secrets Manager', () => {
    const { template } = synthesize(
      { kafkaSecretArn: SECRET_ARN, kafkaSecurityProtocol: 'SASL_SSL', kafkaSaslMechanism: 'SCRAM-SHA-512' },
      { existing: { kafkaSecretKeyArn: SECRET_KEY_ARN } },
    )
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KAFKA_SECRET_ARN: SECRET_ARN }) },
    })
    const statements = statementsOf(template, 'ConsumerExecutionRole')
    const secret = statements.filter((statement) =>
      actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    )
    expect(secret.map((statement) => [actionsOf(statement), statement.Resource])).toEqual([
      [['secretsmanager:GetSecretValue'], SECRET_ARN],
    ])
    const key = statements.filter((statement) => actionsOf(statement).includes('kms:Decrypt'))
    expect(key).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: SECRET_KEY_ARN,
        // The secret's own region (eu-west-1), where the function reads it, not the stack's.
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    ])
  })

  it('may read Glue schema versions only with SCHEMA_REGISTRY=glue, and cdk-nag has that acknowledged', () => {
    const glueStatements = (template: Synthesized['template']) =>
      statementsOf(template, 'ConsumerExecutionRole').filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('glue:')),
      )
    expect(glueStatements(synthesize().template)).toEqual([])
    expect(
      glueStatements(
        synthesize({
          environment: {
            VALUE_FORMAT: 'json-schema',
            SCHEMA_REGISTRY_URL: 'http://r:8081',
            SCHEMA_REGISTRY: 'confluent',
          },
        }).template,
      ),
    ).toEqual([])

    const glue = synthesize({ environment: { VALUE_FORMAT: 'avro', SCHEMA_REGISTRY: 'glue' } })

    expect(
      glueStatements(glue.template).map((statement) => [actionsOf(statement), statement.Resource]),
    ).toEqual([[['glue:GetSchemaVersion'], '*']])
    expect(nagFindings(glue.app)).toEqual([])
  })

  it('with an MSK cluster, may only Connect to it and DescribeTopic, ReadData on the topic, over SASL_SSL with AWS_MSK_IAM', () => {
    const { template } = synthesize({ mskClusterArn: MSK_ARN })
    const kafka = statementsOf(template, 'ConsumerExecutionRole').filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('kafka-cluster:')),
    )
    expect(byAction(kafka)).toEqual([
      { actions: ['kafka-cluster:Connect'], resource: MSK_ARN },
      {
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resource:
          'arn:aws:kafka:eu-west-1:123456789012:topic/orders-cluster/5a6b7c8d-1234-5678-9abc-def012345678-2/orders',
      },
    ])
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
          KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM',
        }),
      },
    })
  })

  it('in a VPC: subnets and security group, a DynamoDB gateway endpoint, an optional Secrets Manager endpoint, ENI permissions', () => {
    const { template } = synthesizeInStack((stack) => ({
      vpc: importedVpc(stack),
      secretsManagerEndpoint: true,
    }))
    const groupId = logicalId(template, 'AWS::EC2::SecurityGroup', 'ConsumerSecurityGroup')
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
      },
    })
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
      RouteTableIds: ['rtb-0aaaaaaaaaaaaaaaa', 'rtb-0bbbbbbbbbbbbbbbb'],
    })
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.secretsmanager']] },
      PrivateDnsEnabled: true,
    })
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [groupId, 'GroupId'] },
    })
    // Lambda checks the ENI permissions when it creates the function: the policy must exist first.
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]!
    expect(fn.DependsOn).toEqual(
      expect.arrayContaining([
        logicalId(template, 'AWS::IAM::Policy', 'ConsumerVpcNetworkInterfaces'),
        logicalId(template, 'AWS::IAM::Policy', 'ConsumerExecutionRoleDefaultPolicy'),
      ]),
    )
    const eni = statementsOf(template, 'ConsumerExecutionRole').filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('ec2:')),
    )
    expect(eni.map((statement) => [actionsOf(statement).sort(), statement.Resource])).toEqual([
      [['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], '*'],
      [
        [
          'ec2:AssignPrivateIpAddresses',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:UnassignPrivateIpAddresses',
        ],
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ec2:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':*/*',
            ],
          ],
        },
      ],
    ])
  })

  it('with shards: N functions, each with its own log group, schedule and SHARD_INDEX, sharing table and layer', () => {
    const { template } = synthesize({ shards: 3 })
    for (const index of [0, 1, 2]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `kafka-consumer-lambda-${index}`,
        Environment: { Variables: Match.objectLike({ SHARD_COUNT: '3', SHARD_INDEX: String(index) }) },
      })
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/kafka-consumer-lambda-${index}`,
      })
      template.hasResourceProperties('AWS::Scheduler::Schedule', { Name: `kafka-consumer-lambda-${index}` })
    }
    template.resourceCountIs('AWS::Lambda::Function', 3)
    template.resourceCountIs('AWS::DynamoDB::Table', 1)
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1)
    const functionIds = [0, 1, 2].map((index) =>
      logicalId(template, 'AWS::Lambda::Function', `ConsumerShard${index}`),
    )
    expect(template.findOutputs('FunctionName').FunctionName!.Value).toEqual({
      'Fn::Join': ['', [{ Ref: functionIds[0] }, ',', { Ref: functionIds[1] }, ',', { Ref: functionIds[2] }]],
    })
  })

  it('turns off reserved concurrency and both queues when asked', () => {
    const { template } = synthesize({
      reservedConcurrency: false,
      invocationDeadLetterQueue: false,
      messageDeadLetterQueue: false,
    })
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0]!
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined()
    expect(fn.Properties.Environment.Variables.DEAD_LETTER_QUEUE_URL).toBeUndefined()
    template.resourceCountIs('AWS::SQS::Queue', 0)
    expect(Object.keys(template.findOutputs('*'))).not.toContain('DeadLetterQueueUrl')
  })

  it('passes more environment variables through, and names the table, function and group as asked', () => {
    const { template } = synthesize({
      functionName: 'orders-consumer',
      tableName: 'orders-offsets',
      kafkaGroupId: 'orders-group',
      maxMessages: 250,
      startPosition: 'latest',
      memorySize: 1024,
      timeout: Duration.minutes(2),
      environment: { FETCH_MAX_BYTES: '4194304' },
    })
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'orders-consumer',
      MemorySize: 1024,
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          KAFKA_GROUP_ID: 'orders-group',
          MAX_MESSAGES: '250',
          START_POSITION: 'latest',
          FETCH_MAX_BYTES: '4194304',
        }),
      },
    })
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'orders-offsets' })
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/orders-consumer' })
  })

  it("starts at a time with startPosition 'timestamp' and startTimestamp (Lambda's AT_TIMESTAMP)", () => {
    const { template } = synthesize({ startPosition: 'timestamp', startTimestamp: '2026-11-26T08:00:00Z' })

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ START_POSITION: 'timestamp', START_TIMESTAMP: '2026-11-26T08:00:00Z' }),
      },
    })
  })
})

describe('ScheduledKafkaConsumer prop validation', () => {
  const cases: Array<[string, Partial<ScheduledKafkaConsumerProps>, string]> = [
    ['kafkaBootstrapServers', { kafkaBootstrapServers: 'no-port-here' }, 'host:port'],
    ['kafkaBootstrapServers', { kafkaBootstrapServers: '' }, 'host:port'],
    ['kafkaTopic', { kafkaTopic: 'bad topic!' }, 'Kafka topic name'],
    ['kafkaGroupId', { kafkaGroupId: '' }, 'non-empty'],
    ['tableName', { tableName: 'x' }, 'DynamoDB table name'],
    ['functionName', { functionName: 'a'.repeat(51) }, '1 to 50'],
    ['architecture', { architecture: lambda.Architecture.custom('arm32') }, 'ARM_64 or'],
    ['memorySize', { memorySize: 100 }, 'from 128 to 10240'],
    ['maxMessages', { maxMessages: 0 }, 'from 1 to 10000000'],
    ['logLevel', { logLevel: 'LOUD' as 'INFO' }, 'DEBUG, INFO, WARN, ERROR'],
    ['startTimestamp', { startPosition: 'timestamp', startTimestamp: '26/11/2026' }, 'ISO-8601 time'],
    ['startTimestamp', { startPosition: 'timestamp' }, 'START_POSITION=timestamp starts there'],
    ['timeout', { timeout: Duration.minutes(20) }, '15 minutes'],
    ['reservedConcurrency', { reservedConcurrency: 0 }, 'from 1 to 1000'],
    ['shards', { shards: 0 }, 'from 1 to 100'],
    [
      'schedule',
      { schedule: scheduler.ScheduleExpression.expression('* * * * *') },
      'cron(...) or rate(...)',
    ],
    ['scheduleMaxEventAge', { scheduleMaxEventAge: Duration.seconds(30) }, '60 s to 24 hours'],
    [
      'kafkaSecretArn',
      { kafkaSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka' },
      '6-character suffix',
    ],
    [
      'kafkaSecretKey',
      { kafkaSecretKey: kms.Key.fromKeyArn(new Stack(), 'Key', SECRET_KEY_ARN) },
      'only with kafkaSecret or kafkaSecretArn',
    ],
    // What the function itself would refuse at its first invocation fails the synthesis instead.
    ['kafkaSecurityProtocol', { kafkaSecretArn: SECRET_ARN }, 'it would refuse it with'],
    ['kafkaSaslMechanism', { kafkaSecurityProtocol: 'SASL_SSL' }, 'KAFKA_SASL_MECHANISM'],
    [
      'mskClusterArn',
      { mskClusterArn: 'arn:aws:kafka:eu-west-1:123456789012:topic/x/y/z' },
      'cluster/<cluster-name>',
    ],
    ['secretsManagerEndpoint', { secretsManagerEndpoint: true }, 'only with vpc'],
    ['environment', { environment: { KAFKA_TOPIC: 'other' } }, 'use the kafkaTopic prop'],
    ['code', { entry: 'handler.ts', code: lambda.Code.fromInline('x') }, 'one or the other'],
  ]

  for (const [prop, props, expected] of cases) {
    it(`rejects a bad ${prop}, naming it`, () => {
      let caught: unknown
      try {
        synthesize(props)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InvalidConstructPropError)
      const error = caught as InvalidConstructPropError
      expect(error.prop).toBe(prop)
      expect(error.message).toContain(`Invalid ${prop}:`)
      expect(error.message).toContain(expected)
    })
  }

  it('parses an MSK cluster ARN into its parts', () => {
    expect(parseMskClusterArn(MSK_ARN)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012',
      name: 'orders-cluster',
      uuid: '5a6b7c8d-1234-5678-9abc-def012345678-2',
    })
  })

  it('accepts every default with only the two required props', () => {
    const { stack } = synthesize()
    expect(stack.consumer.lambdaFunction.functionName).toBeDefined()
    expect(Stack.of(stack.consumer).resolve(stack.consumer.table.tableName)).toEqual({
      Ref: expect.stringMatching(/^ConsumerOffsetsTable/),
    })
  })
})

describe("ScheduledKafkaConsumer in a team's own stack", () => {
  const { app, template, orders, payments } = twoConsumersInOneStack()

  it('lets two consumers of two topics live in one stack: no fixed physical name, each its own service', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2)
    template.resourceCountIs('AWS::DynamoDB::Table', 2)
    template.resourceCountIs('AWS::Scheduler::Schedule', 2)
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::DynamoDB::Table',
      'AWS::SQS::Queue',
      'AWS::Logs::LogGroup',
    ]) {
      for (const resource of Object.values(template.findResources(type))) {
        const properties = resource.Properties as Record<string, unknown>
        for (const nameKey of ['FunctionName', 'TableName', 'QueueName', 'LogGroupName']) {
          expect(properties[nameKey], `${type} ${nameKey}`).toBeUndefined()
        }
      }
    }
    // Scheduler's role trusts its schedule by name: named from the construct's path, unique.
    const names = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (resource) => (resource.Properties as { Name: string }).Name,
    )
    expect(new Set(names).size).toBe(2)
    expect(names.every((name) => /^TwoConsumers-(Orders|Payments)-[0-9A-F]{8}$/.test(name))).toBe(true)
    expect(orders.serviceName).not.toBe(payments.serviceName)
  })

  it('bundles the entry into a nodejs24.x ES module with the Kafka client left to the layer', () => {
    const fn = template.findResources('AWS::Lambda::Function')
    const ordersFn = Object.entries(fn).find(([id]) => id.startsWith('OrdersFunction'))![1]
    expect(ordersFn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      Layers: [{ Ref: expect.stringMatching(/^OrdersKafkaClientLayer/) }],
    })
    // The staged asset is named after the hash its S3 key carries.
    const key = (ordersFn.Properties.Code as { S3Key: string }).S3Key
    const bundle = readFileSync(join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8')
    // The handler's own code is in, the client is loaded from the layer, not bundled.
    expect(bundle).toContain('has no quantity')
    expect(bundle).toContain('lkc-bundle.mjs')
    // Not the client's own code (one of its error messages), only the names the layer module re-exports.
    expect(bundle).not.toContain('Connecting to brokers failed')
  })

  it("accepts an existing table, a secret and its key as CDK's own types", () => {
    const { template: withExisting } = synthesizeInStack((scope) => ({
      table: dynamodb.Table.fromTableName(scope, 'Offsets', 'team-offsets'),
      kafkaSecret: secretsmanager.Secret.fromSecretNameV2(scope, 'Secret', 'kafka-credentials'),
      kafkaSecretKey: kms.Key.fromKeyArn(scope, 'SecretKey', SECRET_KEY_ARN),
      kafkaSecurityProtocol: 'SASL_SSL',
      kafkaSaslMechanism: 'SCRAM-SHA-512',
    }))
    withExisting.resourceCountIs('AWS::DynamoDB::Table', 0)
    const statements = statementsOf(withExisting, 'ConsumerExecutionRole')
    const table = statements.find((statement) => actionsOf(statement).includes('dynamodb:Query'))!
    expect(JSON.stringify(table.Resource)).toContain(':table/team-offsets')
    const secret = statements.find((statement) =>
      actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    )!
    // A secret known by name only: its ARN's random suffix is matched.
    expect(JSON.stringify(secret.Resource)).toContain(':secret:kafka-credentials-??????')
    const key = statements.find((statement) => actionsOf(statement).includes('kms:Decrypt'))!
    expect(key.Resource).toBe(SECRET_KEY_ARN)
    const fn = Object.values(withExisting.findResources('AWS::Lambda::Function'))[0]!
    expect(JSON.stringify(fn.Properties.Environment.Variables.DYNAMODB_TABLE)).toContain('team-offsets')
  })

  it('refuses a table prop next to an existing table, naming it', () => {
    expect(() =>
      synthesizeInStack((scope) => ({
        table: dynamodb.Table.fromTableName(scope, 'Offsets', 'team-offsets'),
        tableName: 'other',
      })),
    ).toThrow('Invalid tableName: "(set)". Expected to be set only for a new table, not with table.')
  })

  it("builds the layer from the installed client for the function's architecture", () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs24.x'],
      CompatibleArchitectures: ['arm64'],
    })
    // ORDERS_HANDLER_ENTRY is a TypeScript file of the repository: the entry can be TS.
    expect(ORDERS_HANDLER_ENTRY.endsWith('.ts')).toBe(true)
  })
})
