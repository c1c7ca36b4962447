import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import {
  consumerIdOf,
  describeConfig,
  loadConfig,
  startPositionOf,
  unknownKeys,
} from '../../../src/config/schema.ts'

const minimal = { KAFKA_BOOTSTRAP_SERVERS: 'b-1.example:9092,b-2.example:9092', KAFKA_TOPIC: 'test-topic' }

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it("applies the seed's defaults", () => {
    const config = loadConfig(minimal)

    expect(config).toMatchObject({
      kafkaBootstrapServers: ['b-1.example:9092', 'b-2.example:9092'],
      kafkaTopic: 'test-topic',
      kafkaGroupId: 'lambda-consumer-group',
      dynamodbTable: 'kafka-consumer-offsets',
      maxMessages: 1000,
      startPosition: 'earliest',
      logLevel: 'INFO',
    })
    expect(config.dynamodbEndpoint).toBeUndefined()
    expect(consumerIdOf(config)).toBe('lambda-consumer-group_test-topic')
  })

  it('defaults the reliability settings: checkpoints, lease, retries, out-of-range policy, no dead letters', () => {
    const config = loadConfig(minimal)

    expect(config).toMatchObject({
      checkpointEveryMessages: 10000,
      checkpointEveryMs: 10_000,
      leaseDurationMs: 60_000,
      processingAttempts: 3,
      processingRetryDelayMs: 200,
      offsetOutOfRangePolicy: 'earliest',
      timeoutMarginMs: 10_000,
    })
    expect(config.deadLetterQueueUrl).toBeUndefined()
    expect(config.deadLetterTopic).toBeUndefined()
  })

  it('names every missing required key at once', () => {
    const error = problemsOf({})

    expect(error.problems.map((problem) => problem.key)).toEqual(['KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_TOPIC'])
    expect(error.message).toContain('KAFKA_BOOTSTRAP_SERVERS is not set')
  })

  it.each([
    ['MAX_MESSAGES', 'lots', 'a whole number from 1 to 10000000'],
    ['MAX_MESSAGES', '-5', 'a whole number from 1 to 10000000'],
    ['MAX_MESSAGES', '0', 'a whole number from 1 to 10000000'],
    ['MAX_MESSAGES', '99999999999', 'a whole number from 1 to 10000000'],
    ['MAX_MESSAGES', '10.5', 'a whole number from 1 to 10000000'],
    ['START_POSITION', 'beginning', 'one of: earliest, latest, timestamp'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'localhost', 'host:port'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'a:9092,,b:99999', 'host:port'],
    ['KAFKA_TOPIC', 'bad topic!', 'Kafka topic name'],
    ['DYNAMODB_TABLE', 'ab', 'DynamoDB table name'],
    ['DYNAMODB_TABLE', 'offsets/table', 'DynamoDB table name'],
    ['DYNAMODB_ENDPOINT', 'localhost:8000', 'http(s) URL'],
    ['LOG_LEVEL', 'LOUD', 'DEBUG, INFO, WARN, ERROR'],
    ['TIMEOUT_MARGIN_MS', '1h', 'milliseconds'],
    ['MAX_MESSAGES', '1e3', 'a whole number from 1 to 10000000'],
    ['MAX_MESSAGES', 'Infinity', 'a whole number from 1 to 10000000'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'http://b-1.example:9092', 'host:port'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'b-1.example:0', 'host:port'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'b-1 example:9092', 'host:port'],
    ['DYNAMODB_TABLE', 'x'.repeat(256), 'DynamoDB table name'],
    ['DYNAMODB_TABLE', 'my table', 'DynamoDB table name'],
    ['KAFKA_SECURITY_PROTOCOL', 'TLS', 'one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL'],
    ['KAFKA_SECURITY_PROTOCOL', 'SASL', 'one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL'],
    ['KAFKA_SECRET_ARN', 'my-kafka-secret', 'a Secrets Manager secret ARN'],
    [
      'KAFKA_SECRET_ARN',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/kafka',
      'a Secrets Manager secret ARN',
    ],
    ['KAFKA_SECRET_MAX_AGE_MS', '5', 'from 1000 to 86400000'],
    ['LOG_MESSAGE_CONTENT', 'no', 'one of: true, false'],
    ['PROCESSING_ATTEMPTS', '0', 'a whole number from 1 to 20'],
    ['LEASE_DURATION_MS', '500', 'milliseconds from 1000'],
    ['CHECKPOINT_EVERY_MESSAGES', '-1', 'a whole number from 0'],
    ['OFFSET_OUT_OF_RANGE_POLICY', 'skip', 'one of: earliest, latest, fail'],
    ['DEAD_LETTER_QUEUE_URL', 'sqs://queue', 'http(s) queue URL'],
    ['DEAD_LETTER_TOPIC', 'test-topic', 'other than KAFKA_TOPIC'],
  ])('rejects %s=%s, naming the key, the value and what is allowed', (key, value, expected) => {
    const error = problemsOf({ ...minimal, [key]: value })

    expect(error.problems).toEqual([{ key, value, expected: expect.stringContaining(expected) }])
    expect(error.message).toContain(`${key}=${JSON.stringify(value)}`)
  })

  it('accepts a lower-case log level and trims numbers', () => {
    expect(loadConfig({ ...minimal, LOG_LEVEL: 'debug', MAX_MESSAGES: ' 250 ' })).toMatchObject({
      logLevel: 'DEBUG',
      maxMessages: 250,
    })
  })

  it('reads SHARD_COUNT and SHARD_INDEX, one shard owning everything by default', () => {
    expect(loadConfig(minimal)).toMatchObject({ shardCount: 1, shardIndex: 0 })
    expect(loadConfig({ ...minimal, SHARD_COUNT: '4', SHARD_INDEX: '3' })).toMatchObject({
      shardCount: 4,
      shardIndex: 3,
    })
  })

  it('rejects a SHARD_INDEX that is not below SHARD_COUNT, naming both', () => {
    const error = problemsOf({ ...minimal, SHARD_COUNT: '2', SHARD_INDEX: '2' })

    expect(error.problems).toEqual([
      { key: 'SHARD_INDEX', value: '2', expected: 'a whole number from 0 to 1 (SHARD_COUNT is 2)' },
    ])
  })

  it('treats an empty value as unset', () => {
    expect(loadConfig({ ...minimal, KAFKA_GROUP_ID: '' }).kafkaGroupId).toBe('lambda-consumer-group')
  })
})

describe('loadConfig: START_POSITION=timestamp', () => {
  it('starts at START_TIMESTAMP, as the run takes it', () => {
    const config = loadConfig({
      ...minimal,
      START_POSITION: 'timestamp',
      START_TIMESTAMP: '2026-11-26T08:00:00Z',
    })

    expect(config).toMatchObject({ startPosition: 'timestamp', startTimestamp: '2026-11-26T08:00:00Z' })
    expect(startPositionOf(config)).toEqual({ timestampMs: Date.UTC(2026, 10, 26, 8) })
    expect(startPositionOf(loadConfig(minimal))).toBe('earliest')
    expect(
      startPositionOf(
        loadConfig({
          ...minimal,
          START_POSITION: 'timestamp',
          START_TIMESTAMP: '2026-11-26T09:30:00.250+01:00',
        }),
      ),
    ).toEqual({ timestampMs: Date.UTC(2026, 10, 26, 8, 30, 0, 250) })
  })

  it('requires START_TIMESTAMP with it', () => {
    const error = problemsOf({ ...minimal, START_POSITION: 'timestamp' })

    expect(error.problems).toEqual([
      {
        key: 'START_TIMESTAMP',
        value: undefined,
        expected:
          'an ISO-8601 time with its zone, e.g. "2026-11-26T08:00:00Z": START_POSITION=timestamp starts there',
      },
    ])
  })

  it('refuses START_TIMESTAMP without it, naming both fixes', () => {
    const error = problemsOf({
      ...minimal,
      START_POSITION: 'latest',
      START_TIMESTAMP: '2026-11-26T08:00:00Z',
    })

    expect(error.message).toContain(
      'START_TIMESTAMP="2026-11-26T08:00:00Z": unset, as START_POSITION is latest: set START_POSITION=timestamp to start at this time, or unset START_TIMESTAMP',
    )
  })

  it.each([
    ['2026-11-26'],
    ['2026-11-26T08:00:00'],
    ['26/11/2026 08:00'],
    ['2026-13-45T08:00:00Z'],
    ['yesterday'],
  ])('refuses %s: a time with its zone is expected', (text) => {
    const error = problemsOf({ ...minimal, START_POSITION: 'timestamp', START_TIMESTAMP: text })

    expect(error.problems).toEqual([
      {
        key: 'START_TIMESTAMP',
        value: text,
        expected: 'an ISO-8601 time with its zone, e.g. "2026-11-26T08:00:00Z"',
      },
    ])
  })

  it('refuses a time in the future, pointing to latest', () => {
    const future = new Date(Date.now() + 3_600_000).toISOString()

    const error = problemsOf({ ...minimal, START_POSITION: 'timestamp', START_TIMESTAMP: future })

    expect(error.problems[0]?.expected).toContain('a time that has passed: use START_POSITION=latest')
  })
})

describe('unknownKeys', () => {
  it("reports look-alike variables (likely typos) but not other tools' ones", () => {
    expect(
      unknownKeys({
        ...minimal,
        KAFKA_TOPICS: 'x',
        DYNAMODB_TABEL: 'y',
        DEAD_LETTER_QUEUE: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
        DEAD_LETTER_TOPIC: 'orders.dlq',
        KAFKA_HEAP_OPTS: '-Xmx1g',
        HOME: '/root',
      }),
    ).toEqual(['KAFKA_TOPICS', 'DYNAMODB_TABEL', 'DEAD_LETTER_QUEUE'])
  })
})

describe('describeConfig', () => {
  it('lists each setting as a user would write it', () => {
    const rows = describeConfig(loadConfig(minimal))

    expect(rows).toContainEqual({
      key: 'KAFKA_BOOTSTRAP_SERVERS',
      value: 'b-1.example:9092,b-2.example:9092',
    })
    expect(rows).toContainEqual({ key: 'MAX_MESSAGES', value: '1000' })
  })
})

const saslEnv = (overrides: Record<string, string>) => ({
  ...minimal,
  KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
  KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  KAFKA_SASL_USERNAME: 'alice',
  KAFKA_SASL_PASSWORD: 'alice-secret',
  ...overrides,
})
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf'

describe('loadConfig: the security settings', () => {
  it('defaults to PLAINTEXT without SASL, and shows content at DEBUG', () => {
    const config = loadConfig(minimal)

    expect(config.kafkaSecurityProtocol).toBe('PLAINTEXT')
    expect(config.kafkaSaslMechanism).toBeUndefined()
    expect(config.logMessageContent).toBe(true)
    expect(config.kafkaSecretMaxAgeMs).toBe(300_000)
  })

  it('accepts each protocol and mechanism, in any case', () => {
    expect(
      loadConfig(saslEnv({ KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_MECHANISM: 'plain' })),
    ).toMatchObject({
      kafkaSecurityProtocol: 'SASL_PLAINTEXT',
      kafkaSaslMechanism: 'PLAIN',
    })
    expect(loadConfig(saslEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })).kafkaSaslMechanism).toBe(
      'SCRAM-SHA-256',
    )
    expect(
      loadConfig({ ...minimal, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: './ca.pem' })
        .kafkaSslCaFile,
    ).toBe('./ca.pem')
    expect(loadConfig({ ...minimal, LOG_MESSAGE_CONTENT: 'FALSE' }).logMessageContent).toBe(false)
  })

  it('takes the credentials from a secret instead of variables', () => {
    const config = loadConfig({
      ...minimal,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SECRET_ARN: secretArn,
    })

    expect(config.kafkaSecretArn).toBe(secretArn)
    expect(config.kafkaSaslPassword).toBeUndefined()
  })

  it('accepts AWS_MSK_IAM over SASL_SSL with a region, from AWS_REGION or the broker names', () => {
    const msk = {
      KAFKA_BOOTSTRAP_SERVERS: 'b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9098',
      KAFKA_TOPIC: 'orders',
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM',
    }

    expect(loadConfig(msk).kafkaSaslMechanism).toBe('AWS_MSK_IAM')
    expect(
      loadConfig({ ...msk, KAFKA_BOOTSTRAP_SERVERS: 'kafka.internal:9098', AWS_REGION: 'us-east-2' }),
    ).toBeDefined()
  })

  it.each([
    [
      'a SASL protocol without a mechanism',
      { ...minimal, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' },
      {
        key: 'KAFKA_SASL_MECHANISM',
        value: undefined,
        expected: 'required with KAFKA_SECURITY_PROTOCOL=SASL_SSL',
      },
    ],
    [
      'a mechanism without a SASL protocol',
      { ...minimal, KAFKA_SASL_MECHANISM: 'PLAIN' },
      {
        key: 'KAFKA_SASL_MECHANISM',
        value: 'PLAIN',
        expected: 'KAFKA_SECURITY_PROTOCOL=PLAINTEXT uses no SASL',
      },
    ],
    [
      'AWS_MSK_IAM without TLS',
      {
        ...minimal,
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM',
        AWS_REGION: 'eu-west-1',
      },
      {
        key: 'KAFKA_SECURITY_PROTOCOL',
        value: 'SASL_PLAINTEXT',
        expected: 'SASL_SSL: KAFKA_SASL_MECHANISM=AWS_MSK_IAM works only over TLS',
      },
    ],
    [
      'AWS_MSK_IAM without a region',
      { ...minimal, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM' },
      { key: 'AWS_REGION', value: undefined, expected: 'the AWS region of the MSK cluster' },
    ],
    [
      'AWS_MSK_IAM with a password',
      saslEnv({ KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM', KAFKA_SASL_USERNAME: '', AWS_REGION: 'eu-west-1' }),
      { key: 'KAFKA_SASL_PASSWORD', value: '***', expected: "signs in with the function's IAM role" },
    ],
    [
      'SCRAM without any password',
      saslEnv({ KAFKA_SASL_PASSWORD: '' }),
      { key: 'KAFKA_SASL_PASSWORD', value: undefined, expected: 'set KAFKA_SECRET_ARN' },
    ],
    [
      'PLAIN with a password but no user',
      saslEnv({ KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: '' }),
      {
        key: 'KAFKA_SASL_USERNAME',
        value: undefined,
        expected: 'the PLAIN user that goes with KAFKA_SASL_PASSWORD',
      },
    ],
    [
      'a password both in a variable and in a secret',
      saslEnv({ KAFKA_SECRET_ARN: secretArn }),
      { key: 'KAFKA_SASL_PASSWORD', value: '***', expected: 'keep it in one place only' },
    ],
    [
      'two secrets',
      saslEnv({ KAFKA_SASL_PASSWORD: '', KAFKA_SECRET_ARN: secretArn, KAFKA_SECRET_FILE: './secret.json' }),
      { key: 'KAFKA_SECRET_FILE', value: './secret.json', expected: 'KAFKA_SECRET_ARN is set' },
    ],
    [
      'a secret without a protocol that uses it',
      { ...minimal, KAFKA_SECRET_ARN: secretArn },
      {
        key: 'KAFKA_SECURITY_PROTOCOL',
        value: 'PLAINTEXT',
        expected: 'KAFKA_SECRET_ARN is set, and PLAINTEXT uses no credentials',
      },
    ],
    [
      'a CA file without TLS',
      { ...minimal, KAFKA_SSL_CA_FILE: './ca.pem' },
      {
        key: 'KAFKA_SSL_CA_FILE',
        value: './ca.pem',
        expected: 'KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS',
      },
    ],
    [
      'a client certificate without its key',
      { ...minimal, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: './client.pem' },
      { key: 'KAFKA_SSL_KEY_FILE', value: undefined, expected: 'mutual TLS needs both' },
    ],
    [
      'a user without SASL',
      { ...minimal, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SASL_USERNAME: 'alice' },
      { key: 'KAFKA_SASL_USERNAME', value: 'alice', expected: 'KAFKA_SECURITY_PROTOCOL=SSL uses no SASL' },
    ],
  ])('rejects %s, naming the key to change and what is allowed', (_case, env, problem) => {
    const error = problemsOf(env)

    expect(error.problems).toEqual([{ ...problem, expected: expect.stringContaining(problem.expected) }])
  })

  it('never shows a password, not even a bad one', () => {
    const error = problemsOf({ ...minimal, KAFKA_SASL_PASSWORD: 'hunter2-very-secret' })

    expect(error.problems).toEqual([
      { key: 'KAFKA_SASL_PASSWORD', value: '***', expected: expect.stringContaining('uses no SASL') },
    ])
    expect(error.message).not.toContain('hunter2')
  })

  it('does not pile rule errors on a value that is invalid by itself', () => {
    const error = problemsOf({
      ...minimal,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM',
    })

    expect(error.problems.map((problem) => problem.key)).toEqual(['KAFKA_SASL_MECHANISM'])
  })
})

describe('describeConfig: secrets', () => {
  it('shows the password as ***', () => {
    const rows = describeConfig(loadConfig(saslEnv({})))

    expect(rows).toContainEqual({ key: 'KAFKA_SASL_PASSWORD', value: '***' })
    expect(rows).toContainEqual({ key: 'KAFKA_SASL_USERNAME', value: 'alice' })
    expect(JSON.stringify(rows)).not.toContain('alice-secret')
  })
})
