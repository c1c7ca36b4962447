/**
 * The one configuration schema, for every entry point (the Lambda handler, `lkc`, the demo).
 * Each setting is an environment variable; the names and defaults of the seed's Python design
 * are kept (`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_TOPIC`, `KAFKA_GROUP_ID`, `DYNAMODB_TABLE`,
 * `MAX_MESSAGES`). The table below is also the source of the README's configuration reference.
 */
import * as z from 'zod/mini'
import { KEY_FORMATS, VALUE_FORMATS } from '../processing/value-formats.ts'
import { ConfigError, type ConfigProblem } from './errors.ts'
import { formatProblems } from './format-rules.ts'
import { securityProblems } from './security-rules.ts'

/** One environment variable: how it is parsed, its default, and what the docs say of it. */
export interface Setting {
  readonly key: string
  readonly description: string
  /** The default as a user would write it; `undefined` means the setting is required or optional. */
  readonly defaultValue?: string
  readonly required?: boolean
  /** Secret values are never printed: errors and config dumps show `***`. */
  readonly secret?: boolean
  /** What is allowed, in the words of an error message. */
  readonly expected: string
  readonly schema: z.ZodMiniType
}

function setting<const S extends Setting>(spec: S): S {
  return spec
}

const integer = (min: number, max: number) =>
  z.pipe(
    z.pipe(z.string().check(z.trim(), z.regex(/^-?\d+$/)), z.transform(Number)),
    z.int().check(z.minimum(min), z.maximum(max)),
  )

const hostPort = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/

const brokerList = z
  .pipe(
    z.string(),
    z.transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter((broker) => broker.length > 0),
    ),
  )
  .check(
    z.refine(
      (brokers) =>
        brokers.length > 0 &&
        brokers.every((broker) => {
          const port = hostPort.exec(broker)?.[1]
          return port !== undefined && Number(port) >= 1 && Number(port) <= 65535
        }),
    ),
  )

/** Kafka's own rule for topic names (`Topic.validate` in the broker). */
const topicName = z.string().check(
  z.regex(/^[a-zA-Z0-9._-]{1,249}$/),
  z.refine((name) => name !== '.' && name !== '..'),
)

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'AWS_MSK_IAM'] as const
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number]
export type SaslMechanism = (typeof SASL_MECHANISMS)[number]

const upperCaseEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) => value.trim().toUpperCase()),
    ),
    z.enum(values),
  )

export const settings = {
  kafkaBootstrapServers: setting({
    key: 'KAFKA_BOOTSTRAP_SERVERS',
    description: 'Comma-separated Kafka brokers to bootstrap from.',
    required: true,
    expected: 'a comma-separated list of host:port, e.g. "b-1.msk.example:9092,b-2.msk.example:9092"',
    schema: brokerList,
  }),
  kafkaTopic: setting({
    key: 'KAFKA_TOPIC',
    description: 'The topic to consume; every partition of it is read.',
    required: true,
    expected: 'a Kafka topic name: 1 to 249 of a-z A-Z 0-9 . _ -, e.g. "test-topic"',
    schema: topicName,
  }),
  kafkaGroupId: setting({
    key: 'KAFKA_GROUP_ID',
    description:
      'Names this consumer: the offsets are stored under `consumer_id` = `{group_id}_{topic}`. No Kafka consumer group is joined.',
    defaultValue: 'lambda-consumer-group',
    expected: 'a non-empty name of at most 200 characters',
    schema: z.string().check(z.minLength(1), z.maxLength(200)),
  }),
  kafkaClientId: setting({
    key: 'KAFKA_CLIENT_ID',
    description: 'The client id the brokers see in their logs and quotas.',
    defaultValue: 'lambda-kafka-consumer',
    expected: 'a non-empty name of at most 200 characters',
    schema: z.string().check(z.minLength(1), z.maxLength(200)),
  }),
  dynamodbTable: setting({
    key: 'DYNAMODB_TABLE',
    description: "The DynamoDB table holding the offsets (the seed's schema).",
    defaultValue: 'kafka-consumer-offsets',
    expected: 'a DynamoDB table name: 3 to 255 of a-z A-Z 0-9 _ . -',
    schema: z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,255}$/)),
  }),
  dynamodbEndpoint: setting({
    key: 'DYNAMODB_ENDPOINT',
    description:
      'A DynamoDB API endpoint to use instead of AWS, e.g. the local one `lkc` starts. Unset: AWS DynamoDB through the default credential chain.',
    expected: 'an http(s) URL, e.g. "http://127.0.0.1:4567"',
    schema: z.url({ protocol: /^https?$/ }),
  }),
  maxMessages: setting({
    key: 'MAX_MESSAGES',
    description: 'The most messages one invocation processes, across all partitions.',
    defaultValue: '1000',
    expected: 'a whole number from 1 to 10000000',
    schema: integer(1, 10_000_000),
  }),
  shardCount: setting({
    key: 'SHARD_COUNT',
    description:
      'How many functions share the topic: each owns the partitions p with p % SHARD_COUNT == SHARD_INDEX (1: this one owns them all). All shards keep their offsets under the same `consumer_id`.',
    defaultValue: '1',
    expected: 'a whole number from 1 to 1000',
    schema: integer(1, 1000),
  }),
  shardIndex: setting({
    key: 'SHARD_INDEX',
    description:
      'Which shard this function is: it consumes only the partitions p with p % SHARD_COUNT == SHARD_INDEX.',
    defaultValue: '0',
    expected: 'a whole number from 0 to SHARD_COUNT - 1',
    schema: integer(0, 999),
  }),
  partitionConcurrency: setting({
    key: 'PARTITION_CONCURRENCY',
    description:
      'How many partitions are processed at the same time. Each partition still goes one message (or one batch) at a time, in offset order; this many partitions go side by side, so a processor that waits on I/O (a database write, an HTTP call) is called for several partitions at once. The default lets every partition with data go at once, up to 32. 1: one partition after another (a processor that must never run twice at once, or one that only computes: it gains nothing side by side, and with a large MAX_MESSAGES each checkpoint then writes fewer partitions).',
    defaultValue: '32',
    expected: 'a whole number from 1 to 1000',
    schema: integer(1, 1000),
  }),
  startPosition: setting({
    key: 'START_POSITION',
    description:
      "Where a partition starts when this consumer has never consumed it (no offset stored yet): its first retained message, its end (only messages produced from then on), or its first message at or after START_TIMESTAMP (as the Lambda Kafka trigger's AT_TIMESTAMP). A `latest` or `timestamp` start is saved at once. Decided per partition, so every shard's first run, and a first run that could save only some partitions, honour it; a partition added to the topic after the consumer's first run always starts at its first message, so nothing in it is missed.",
    defaultValue: 'earliest',
    expected: 'one of: earliest, latest, timestamp',
    schema: z.enum(['earliest', 'latest', 'timestamp']),
  }),
  startTimestamp: setting({
    key: 'START_TIMESTAMP',
    description:
      'With START_POSITION=timestamp (and only then): the time partitions start from, each at its first message whose timestamp is at or after it (found by ListOffsets on time; the end of a partition with none). Not in the future.',
    expected: 'an ISO-8601 time with its zone, e.g. "2026-11-26T08:00:00Z"',
    schema: z.string().check(
      z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/),
      z.refine((text) => Number.isFinite(Date.parse(text))),
    ),
  }),
  timeoutMarginMs: setting({
    key: 'TIMEOUT_MARGIN_MS',
    description:
      "How long before the invocation's timeout the run stops starting work (fetches, messages, retries). It must cover what is then in hand: one message's processing and dead letter (a dead letter to SQS gives up after 5 s), the final save, the lease release and the summary. A save takes milliseconds; when DynamoDB does not answer, at most 7.25 s (3 attempts of at most 2 s, 0.25 s and 1 s apart), then the release at most 2 s and the summary 0.5 s: 9.75 s, which the default covers. No retry of a save starts, or runs, past 2.5 s before the timeout; at most half the time left is used as the margin. Too small, and the final save gets fewer attempts (its first is always made): what it could not save is processed again next run, never lost.",
    defaultValue: '10000',
    expected: 'a whole number of milliseconds from 0 to 600000',
    schema: integer(0, 600_000),
  }),
  checkpointEveryMessages: setting({
    key: 'CHECKPOINT_EVERY_MESSAGES',
    description:
      'Save the offsets during the run after this many messages (processed or dead-lettered), so a run killed outright repeats at most twice this many (checkpoints are written in the background, one at a time: the one being written and the one since). Each checkpoint is one write per partition that moved; at the default MAX_MESSAGES a run needs none. 0: not by count.',
    defaultValue: '10000',
    expected: 'a whole number from 0 to 10000000',
    schema: integer(0, 10_000_000),
  }),
  checkpointEveryMs: setting({
    key: 'CHECKPOINT_EVERY_MS',
    description:
      'Also save the offsets during the run when this long has passed since the last save (checked after each message). 0: not by time.',
    defaultValue: '10000',
    expected: 'a whole number of milliseconds from 0 to 900000',
    schema: integer(0, 900_000),
  }),
  leaseDurationMs: setting({
    key: 'LEASE_DURATION_MS',
    description:
      'How long the run lease lasts unrenewed. A run renews it every third of this while it lasts and frees it at the end; the lease of a run that was killed frees itself after this long.',
    defaultValue: '60000',
    expected: 'a whole number of milliseconds from 1000 to 900000',
    schema: integer(1000, 900_000),
  }),
  valueFormat: setting({
    key: 'VALUE_FORMAT',
    description:
      'How message values are decoded for the processor: `json` (parsed), `string` (UTF-8 text), `bytes` (the Buffer as it came), or `avro`, `protobuf`, `json-schema` through a schema registry (SCHEMA_REGISTRY). A value that does not decode is dead-lettered with a reason naming the format and the problem; a tombstone is `null` in every format.',
    defaultValue: 'json',
    expected: `one of: ${VALUE_FORMATS.join(', ')}`,
    schema: z.enum(VALUE_FORMATS),
  }),
  keyFormat: setting({
    key: 'KEY_FORMAT',
    description:
      'How message keys are decoded: `string` (UTF-8 text; bytes that are not UTF-8 become U+FFFD, as keys always were), `bytes`, `json`, or `avro`, `protobuf` through the schema registry (SCHEMA_REGISTRY).',
    defaultValue: 'string',
    expected: `one of: ${KEY_FORMATS.join(', ')}`,
    schema: z.enum(KEY_FORMATS),
  }),
  schemaRegistry: setting({
    key: 'SCHEMA_REGISTRY',
    description:
      'The schema registry the avro, protobuf and json-schema formats read schemas from, by the id each message carries: `confluent` (a Confluent-compatible API at SCHEMA_REGISTRY_URL: magic byte 0 and a 4-byte schema id) or `glue` (the AWS Glue Schema Registry in AWS_REGION: header byte 3 and the schema version UUID; the role needs glue:GetSchemaVersion). Schemas are fetched once and kept for the life of the function.',
    expected: 'one of: confluent, glue',
    schema: z.enum(['confluent', 'glue']),
  }),
  schemaRegistryUrl: setting({
    key: 'SCHEMA_REGISTRY_URL',
    description:
      "With SCHEMA_REGISTRY=confluent: the base URL of the registry's API. Basic auth, if the registry wants it, comes from the Kafka secret (`schemaRegistryUsername`, `schemaRegistryPassword`), never from the URL.",
    expected:
      'an http(s) URL without a user or password in it, e.g. "https://schema-registry.example.com:8081"',
    schema: z
      .url({ protocol: /^https?$/ })
      .check(z.refine((url) => new URL(url).username === '' && new URL(url).password === '')),
  }),
  schemaRegistryTimeoutMs: setting({
    key: 'SCHEMA_REGISTRY_TIMEOUT_MS',
    description:
      "The longest one schema fetch may take (never past the invocation's deadline). A registry that does not answer in time stops the partition before the message for this run (no dead letter); the next run asks again.",
    defaultValue: '5000',
    expected: 'a whole number of milliseconds from 100 to 60000',
    schema: integer(100, 60_000),
  }),
  processingAttempts: setting({
    key: 'PROCESSING_ATTEMPTS',
    description:
      'How many times the processor is called for a message (or batch) before the message is dead-lettered. 1: no retry.',
    defaultValue: '3',
    expected: 'a whole number from 1 to 20',
    schema: integer(1, 20),
  }),
  processingRetryDelayMs: setting({
    key: 'PROCESSING_RETRY_DELAY_MS',
    description:
      'The wait before the first retry of a failed message; it doubles for each retry after, up to 30 s.',
    defaultValue: '200',
    expected: 'a whole number of milliseconds from 0 to 60000',
    schema: integer(0, 60_000),
  }),
  processingTimeoutMs: setting({
    key: 'PROCESSING_TIMEOUT_MS',
    description:
      "How long one processor call (a message, or a batch) may take. A call still running then counts as a failed attempt (a message's call is noticed within an eighth of this after): the message is tried again, then dead-lettered. The call is abandoned, not cancelled: what it was doing may still complete in the background (at-least-once; make the processor idempotent). Never past the run's deadline: a call still running there leaves its message for the next run, so keep PROCESSING_ATTEMPTS times this well inside the function's timeout (the default: 3 x 30 s in a 5-minute function). A processor that returns no promise cannot be interrupted.",
    defaultValue: '30000',
    expected: 'a whole number of milliseconds from 10 to 900000',
    schema: integer(10, 900_000),
  }),
  deadLetterQueueUrl: setting({
    key: 'DEAD_LETTER_QUEUE_URL',
    description:
      'The SQS queue that receives messages the consumer gives up on (the CDK stack creates it). Unset, with DEAD_LETTER_TOPIC unset too: a failed message stops its partition and the invocation fails.',
    expected: 'an http(s) queue URL, e.g. "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq"',
    schema: z.url({ protocol: /^https?$/ }),
  }),
  deadLetterTopic: setting({
    key: 'DEAD_LETTER_TOPIC',
    description:
      'A Kafka topic (on the same cluster) that receives messages the consumer gives up on, e.g. `orders.dlq`. With DEAD_LETTER_QUEUE_URL also set, it receives only the letters too large for SQS. Never created by the consumer.',
    expected: 'a Kafka topic name other than KAFKA_TOPIC, e.g. "test-topic.dlq"',
    schema: topicName,
  }),
  offsetOutOfRangePolicy: setting({
    key: 'OFFSET_OUT_OF_RANGE_POLICY',
    description:
      "Where a partition resumes when its next offset was deleted by retention before it was read: the log's first message, its end, or nowhere (the partition stops and the invocation fails). Always logged as a warning with the count of offsets lost, and counted in the `OffsetOutOfRange` metric.",
    defaultValue: 'earliest',
    expected: 'one of: earliest, latest, fail',
    schema: z.enum(['earliest', 'latest', 'fail']),
  }),
  invocationTimeoutMs: setting({
    key: 'INVOCATION_TIMEOUT_MS',
    description:
      "Outside Lambda (`lkc run`, `lkc start`): the time one invocation may take, as the function's timeout does in Lambda.",
    defaultValue: '300000',
    expected: 'a whole number of milliseconds from 1000 to 900000',
    schema: integer(1000, 900_000),
  }),
  fetchMaxBytes: setting({
    key: 'FETCH_MAX_BYTES',
    description:
      'The most bytes one fetch request returns from one broker; bounds memory (each partition holds at most two fetched batches: one processed, the next read ahead).',
    defaultValue: '2097152',
    expected: 'a whole number of bytes from 1024 to 268435456',
    schema: integer(1024, 268_435_456),
  }),
  fetchPartitionMaxBytes: setting({
    key: 'FETCH_PARTITION_MAX_BYTES',
    description: 'The most bytes one fetch returns for one partition.',
    defaultValue: '1048576',
    expected: 'a whole number of bytes from 1024 to 268435456',
    schema: integer(1024, 268_435_456),
  }),
  fetchMaxWaitMs: setting({
    key: 'FETCH_MAX_WAIT_MS',
    description: 'How long a broker may hold a fetch open waiting for data.',
    defaultValue: '100',
    expected: 'a whole number of milliseconds from 0 to 30000',
    schema: integer(0, 30_000),
  }),
  kafkaRequestTimeoutMs: setting({
    key: 'KAFKA_REQUEST_TIMEOUT_MS',
    description: 'How long to wait for a broker to connect or answer before giving up.',
    defaultValue: '10000',
    expected: 'a whole number of milliseconds from 100 to 300000',
    schema: integer(100, 300_000),
  }),
  kafkaSecurityProtocol: setting({
    key: 'KAFKA_SECURITY_PROTOCOL',
    description:
      'How to reach the brokers: in clear or over TLS, with or without SASL authentication. Amazon MSK: SASL_SSL (IAM or SCRAM) or SSL (mutual TLS).',
    defaultValue: 'PLAINTEXT',
    expected: `one of: ${SECURITY_PROTOCOLS.join(', ')}`,
    schema: upperCaseEnum(SECURITY_PROTOCOLS),
  }),
  kafkaSaslMechanism: setting({
    key: 'KAFKA_SASL_MECHANISM',
    description:
      "The SASL mechanism; required with SASL_PLAINTEXT and SASL_SSL. AWS_MSK_IAM signs a token with the function's IAM role (SASL/OAUTHBEARER), refreshed before it expires.",
    expected: `one of: ${SASL_MECHANISMS.join(', ')}`,
    schema: upperCaseEnum(SASL_MECHANISMS),
  }),
  kafkaSaslUsername: setting({
    key: 'KAFKA_SASL_USERNAME',
    description:
      'The user for PLAIN and SCRAM. Unset: the `username` of the secret (KAFKA_SECRET_ARN or KAFKA_SECRET_FILE).',
    expected: 'a non-empty name of at most 255 characters',
    schema: z.string().check(z.minLength(1), z.maxLength(255)),
  }),
  kafkaSaslPassword: setting({
    key: 'KAFKA_SASL_PASSWORD',
    description:
      "The password for PLAIN and SCRAM, for local use: never printed. In AWS, keep it in Secrets Manager (KAFKA_SECRET_ARN), not in the function's environment.",
    secret: true,
    expected: 'a non-empty password',
    schema: z.string().check(z.minLength(1)),
  }),
  kafkaSecretArn: setting({
    key: 'KAFKA_SECRET_ARN',
    description:
      'A Secrets Manager secret holding the Kafka credentials as JSON: `username` and `password` (PLAIN, SCRAM), and/or TLS material as PEM text: `ca`, `cert`, `key`, `keyPassword`. Read at cold start, then cached for KAFKA_SECRET_MAX_AGE_MS.',
    expected:
      'a Secrets Manager secret ARN, e.g. "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf"',
    schema: z
      .string()
      .check(z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/)),
  }),
  kafkaSecretFile: setting({
    key: 'KAFKA_SECRET_FILE',
    description:
      'Instead of KAFKA_SECRET_ARN, for local use: a JSON file with the same fields as the secret. Read once at start.',
    expected: 'a file path, e.g. "./kafka-secret.json"',
    schema: z.string().check(z.minLength(1)),
  }),
  kafkaSecretMaxAgeMs: setting({
    key: 'KAFKA_SECRET_MAX_AGE_MS',
    description:
      'How long the secret read from Secrets Manager is reused before it is read again (for new connections; a rotated password is picked up after at most this long).',
    defaultValue: '300000',
    expected: 'a whole number of milliseconds from 1000 to 86400000',
    schema: integer(1000, 86_400_000),
  }),
  kafkaSslCaFile: setting({
    key: 'KAFKA_SSL_CA_FILE',
    description:
      "With SSL or SASL_SSL: a PEM file of the CA certificates to trust instead of the system's (a self-hosted cluster's private CA). Unset: the `ca` of the secret, else the system CAs (enough for Amazon MSK). The broker's host name is always checked.",
    expected: 'a file path, e.g. "./ca.pem"',
    schema: z.string().check(z.minLength(1)),
  }),
  kafkaSslCertFile: setting({
    key: 'KAFKA_SSL_CERT_FILE',
    description:
      'Mutual TLS: a PEM file of the client certificate (and its chain). Unset: the `cert` of the secret, else no client certificate.',
    expected: 'a file path, e.g. "./client.pem"',
    schema: z.string().check(z.minLength(1)),
  }),
  kafkaSslKeyFile: setting({
    key: 'KAFKA_SSL_KEY_FILE',
    description:
      'Mutual TLS: a PEM file of the private key of the client certificate. Unset: the `key` of the secret.',
    expected: 'a file path, e.g. "./client-key.pem"',
    schema: z.string().check(z.minLength(1)),
  }),
  logLevel: setting({
    key: 'LOG_LEVEL',
    description: "DEBUG also logs each message's content; INFO logs its topic, partition and offset.",
    defaultValue: 'INFO',
    expected: 'one of: DEBUG, INFO, WARN, ERROR',
    schema: z.pipe(
      z.pipe(
        z.string(),
        z.transform((level) => level.toUpperCase()),
      ),
      z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
    ),
  }),
  logMessageContent: setting({
    key: 'LOG_MESSAGE_CONTENT',
    description:
      "false: the default processor never logs a message's value or headers, not even at DEBUG (topic, partition, offset and key only).",
    defaultValue: 'true',
    expected: 'one of: true, false',
    schema: z.pipe(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((flag) => flag.trim().toLowerCase()),
        ),
        z.enum(['true', 'false']),
      ),
      z.transform((flag) => flag === 'true'),
    ),
  }),
  publishMetrics: setting({
    key: 'PUBLISH_METRICS',
    description:
      'In Lambda, publish the run metrics (CloudWatch embedded metric format in the log; each metric is billed monthly as a custom metric). The stack sets false when its monitoring is off.',
    defaultValue: 'true',
    expected: 'true or false',
    schema: z.pipe(
      z.enum(['true', 'false']),
      z.transform((value) => value === 'true'),
    ),
  }),
  detailedMetrics: setting({
    key: 'DETAILED_METRICS',
    description:
      "In Lambda, also publish the metrics that Lambda's own (free) ones or the run summary line already carry: `MessagesProcessed`, `MessagesFailed`, `ProcessingRetries`, `RunDuration`, `RunSucceeded`, `LeaseHeld`. false: only `MaxOffsetLag` every run, and `MessagesDeadLettered`, `OffsetOutOfRange`, `OffsetsLostToRetention` when they happen (what the alarms read); each metric published is a CloudWatch custom metric, $0.30 a month.",
    defaultValue: 'false',
    expected: 'true or false',
    schema: z.pipe(
      z.enum(['true', 'false']),
      z.transform((value) => value === 'true'),
    ),
  }),
  partitionLagMetrics: setting({
    key: 'PARTITION_LAG_METRICS',
    description:
      'In Lambda, also publish the lag of each partition (metric `OffsetLag`, dimension `partition`) for the dashboard; each partition is one CloudWatch custom metric, billed monthly. `MaxOffsetLag` is always published.',
    defaultValue: 'false',
    expected: 'true or false',
    schema: z.pipe(
      z.enum(['true', 'false']),
      z.transform((value) => value === 'true'),
    ),
  }),
} as const

type Settings = typeof settings
type Output<S extends Setting> = z.output<S['schema']>
type IsRequiredOrDefaulted<S> = S extends { required: true } | { defaultValue: string } ? true : false

/** The parsed configuration: one camelCase field per environment variable. */
export type Config = {
  readonly [K in keyof Settings as IsRequiredOrDefaulted<Settings[K]> extends true ? K : never]: Output<
    Settings[K]
  >
} & {
  readonly [K in keyof Settings as IsRequiredOrDefaulted<Settings[K]> extends true ? never : K]?: Output<
    Settings[K]
  >
}

/** START_POSITION as the run takes it: START_TIMESTAMP's time with `timestamp`. */
export function startPositionOf(
  config: Pick<Config, 'startPosition' | 'startTimestamp'>,
): 'earliest' | 'latest' | { readonly timestampMs: number } {
  if (config.startPosition !== 'timestamp') return config.startPosition
  return { timestampMs: Date.parse(config.startTimestamp ?? '') }
}

/** `consumer_id` as the seed defines it: `{group_id}_{topic}`. */
export function consumerIdOf(config: Pick<Config, 'kafkaGroupId' | 'kafkaTopic'>): string {
  return `${config.kafkaGroupId}_${config.kafkaTopic}`
}

export type Environment = Readonly<Record<string, string | undefined>>

/**
 * Parses the configuration from environment variables, all at once: every bad or missing
 * value is reported in one `ConfigError`, each with its key, the value seen and what is allowed.
 */
export function loadConfig(env: Environment): Config {
  const problems: ConfigProblem[] = []
  const config: Record<string, unknown> = {}
  for (const [field, spec] of Object.entries(settings) as Array<[string, Setting]>) {
    const raw = env[spec.key]
    const value = raw === undefined || raw.trim() === '' ? spec.defaultValue : raw
    if (value === undefined) {
      if (spec.required) problems.push({ key: spec.key, value: undefined, expected: spec.expected })
      continue
    }
    const parsed = spec.schema.safeParse(value)
    if (parsed.success) {
      config[field] = parsed.data
    } else {
      problems.push({ key: spec.key, value: spec.secret ? '***' : value, expected: spec.expected })
    }
  }
  if (config.deadLetterTopic !== undefined && config.deadLetterTopic === config.kafkaTopic) {
    problems.push({
      key: settings.deadLetterTopic.key,
      value: String(config.deadLetterTopic),
      expected: settings.deadLetterTopic.expected,
    })
  }
  const failed = new Set(problems.map((problem) => problem.key))
  problems.push(...securityProblems(config as Partial<Config>, env, failed))
  problems.push(...formatProblems(config as Partial<Config>, env, failed))
  problems.push(...startProblems(config as Partial<Config>, failed))
  const shardCount = config.shardCount
  const shardIndex = config.shardIndex
  if (typeof shardCount === 'number' && typeof shardIndex === 'number' && shardIndex >= shardCount) {
    problems.push({
      key: settings.shardIndex.key,
      value: String(shardIndex),
      expected: `a whole number from 0 to ${shardCount - 1} (SHARD_COUNT is ${shardCount})`,
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config as Config
}

/** START_TIMESTAMP goes with START_POSITION=timestamp, both ways, and is not in the future. */
function startProblems(config: Partial<Config>, failed: ReadonlySet<string>): ConfigProblem[] {
  const key = settings.startTimestamp.key
  if (failed.has(settings.startPosition.key) || failed.has(key)) return []
  const { startPosition, startTimestamp } = config
  if (startPosition === 'timestamp' && startTimestamp === undefined) {
    return [
      {
        key,
        value: undefined,
        expected: `${settings.startTimestamp.expected}: START_POSITION=timestamp starts there`,
      },
    ]
  }
  if (startPosition !== 'timestamp' && startTimestamp !== undefined) {
    return [
      {
        key,
        value: startTimestamp,
        expected: `unset, as START_POSITION is ${startPosition}: set START_POSITION=timestamp to start at this time, or unset START_TIMESTAMP`,
      },
    ]
  }
  if (startTimestamp !== undefined && Date.parse(startTimestamp) > Date.now()) {
    return [
      {
        key,
        value: startTimestamp,
        expected:
          'a time that has passed: use START_POSITION=latest to start with the messages produced from now on',
      },
    ]
  }
  return []
}

const knownKeys = new Set<string>(Object.values(settings).map((spec) => spec.key))
/** Variables of other tools that share our prefixes, never reported as unknown. */
const foreignKeys = new Set([
  'KAFKA_HOME',
  'KAFKA_OPTS',
  'KAFKA_HEAP_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
])

/**
 * Variables that look like ours but are not (`KAFKA_TOPICS`, `DYNAMODB_TABEL`, `DEAD_LETTER_QUEUE`): likely typos,
 * returned so the entry point can warn instead of silently using a default.
 */
export function unknownKeys(env: Environment): string[] {
  return Object.keys(env).filter(
    (key) =>
      /^(KAFKA|DYNAMODB|DEAD_LETTER|SCHEMA_REGISTRY)_/.test(key) &&
      !knownKeys.has(key) &&
      !foreignKeys.has(key),
  )
}

/** The configuration as a user would write it, secrets redacted: for `--help`, `status` and debug logs. */
export function describeConfig(config: Config): Array<{ key: string; value: string }> {
  return (Object.entries(settings) as Array<[keyof Config, Setting]>).flatMap(([field, spec]) => {
    const value = config[field]
    if (value === undefined) return []
    const shown = spec.secret ? '***' : Array.isArray(value) ? value.join(',') : String(value)
    return [{ key: spec.key, value: shown }]
  })
}
