/**
 * The execution role's permissions: exactly what the code calls, each on its own resource, as a
 * list of grants that each give their statements only when their condition holds (a secret is
 * configured, an MSK cluster, a table key ...). One more permission is one more entry: it sees
 * the props, the built resources and the function's environment.
 */
import { type Stack, Token } from 'aws-cdk-lib'
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as iam from 'aws-cdk-lib/aws-iam'
import type * as kms from 'aws-cdk-lib/aws-kms'
import type * as logs from 'aws-cdk-lib/aws-logs'
import type * as sqs from 'aws-cdk-lib/aws-sqs'
import { parseMskClusterArn, type ResolvedProps } from './consumer-props.ts'

/** What a grant may look at. */
export interface GrantContext {
  readonly props: ResolvedProps
  readonly stack: Stack
  readonly table: dynamodb.ITable
  readonly tableKey?: kms.IKey
  readonly logGroups: readonly logs.ILogGroup[]
  readonly messageDeadLetterQueue?: sqs.IQueue
  /** The first function's environment (every shard's differs only in SHARD_INDEX). */
  readonly environment: Readonly<Record<string, string>>
}

export interface ExecutionRoleGrant {
  /** The statement id(s) it writes, and what a reviewer reads it as. */
  readonly sid: string
  /** None when the grant does not apply. */
  statements(context: GrantContext): iam.PolicyStatement[]
}

export const EXECUTION_ROLE_GRANTS: readonly ExecutionRoleGrant[] = [
  {
    sid: 'OffsetsTable',
    // Query reads every partition's offset; PutItem saves them (conditionally); GetItem reads one
    // back after a failed condition. The seed also lists Scan, which no code path uses.
    statements: ({ table }) => [
      statement('OffsetsTable', ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:GetItem'], [table.tableArn]),
    ],
  },
  {
    sid: 'OffsetsTableKey',
    // A customer-managed table key: DynamoDB uses it on the caller's behalf.
    statements: ({ tableKey }) =>
      tableKey
        ? [
            statement(
              'OffsetsTableKey',
              ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
              [tableKey.keyArn],
            ),
          ]
        : [],
  },
  {
    sid: 'Logs',
    // The stack creates the log groups, so no logs:CreateLogGroup; streams get generated names.
    statements: ({ logGroups }) => [
      statement(
        'Logs',
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        logGroups.map((group) => group.logGroupArn),
      ),
    ],
  },
  {
    sid: 'MessageDeadLetters',
    statements: ({ messageDeadLetterQueue }) =>
      messageDeadLetterQueue
        ? [statement('MessageDeadLetters', ['sqs:SendMessage'], [messageDeadLetterQueue.queueArn])]
        : [],
  },
  {
    sid: 'KafkaCredentials',
    statements: ({ props }) => {
      if (props.secretArn === undefined) return []
      // A secret named without its suffix (`fromSecretNameV2`) has a partial ARN: match the suffix.
      const fullArn = props.kafkaSecret
        ? (props.kafkaSecret.secretFullArn ?? `${props.secretArn}-??????`)
        : props.secretArn
      return [statement('KafkaCredentials', ['secretsmanager:GetSecretValue'], [fullArn])]
    },
  },
  {
    sid: 'KafkaCredentialsKey',
    statements: ({ props, stack }) => {
      if (props.secretArn === undefined || props.secretKey === undefined) return []
      return [
        new iam.PolicyStatement({
          sid: 'KafkaCredentialsKey',
          actions: ['kms:Decrypt'],
          resources: [props.secretKey.keyArn],
          conditions: {
            // The secret is read in its own region (src/kafka/secrets-manager-reader.ts), which may not be the stack's.
            StringEquals: {
              'kms:ViaService': `secretsmanager.${regionOfArn(props.secretArn, stack.region)}.amazonaws.com`,
            },
          },
        }),
      ]
    },
  },
  {
    sid: 'GlueSchemaRegistry',
    // SCHEMA_REGISTRY=glue: schemas are fetched by their version id (the wire format carries
    // it), a lookup that names no registry, so IAM authorizes it only on '*' (the AWS managed
    // AWSGlueSchemaRegistryReadonlyAccess does the same; awslabs/aws-glue-schema-registry#68).
    statements: ({ environment }) =>
      environment.SCHEMA_REGISTRY === 'glue'
        ? [statement('GlueSchemaRegistry', ['glue:GetSchemaVersion'], ['*'])]
        : [],
  },
  {
    sid: 'MskConnect',
    statements: ({ props }) => {
      if (props.mskClusterArn === undefined) return []
      const cluster = parseMskClusterArn(props.mskClusterArn)
      const topicArn = `arn:${cluster.partition}:kafka:${cluster.region}:${cluster.account}:topic/${cluster.name}/${cluster.uuid}/${props.kafkaTopic}`
      return [
        statement('MskConnect', ['kafka-cluster:Connect'], [props.mskClusterArn]),
        // No consumer group is joined, so no group permission is needed.
        statement('MskReadTopic', ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], [topicArn]),
      ]
    },
  },
]

/** Adds every grant that applies to the role. */
export function grantExecutionRole(role: iam.Role, context: GrantContext): void {
  for (const grant of EXECUTION_ROLE_GRANTS) {
    for (const policyStatement of grant.statements(context)) role.addToPolicy(policyStatement)
  }
}

function statement(sid: string, actions: string[], resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions, resources })
}

/** The region field of an ARN (`arn:aws:secretsmanager:eu-west-1:...`), or `fallback` for a token. */
function regionOfArn(arn: string, fallback: string): string {
  if (Token.isUnresolved(arn)) return fallback
  const region = arn.split(':')[3]
  return region === undefined || region === '' ? fallback : region
}
