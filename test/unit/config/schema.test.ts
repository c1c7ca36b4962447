import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import { consumerIdOf, describeConfig, loadConfig, unknownKeys } from '../../../src/config/schema.ts'

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
      checkpointEveryMessages: 250,
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
    ['START_POSITION', 'beginning', 'one of: earliest, latest'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'localhost', 'host:port'],
    ['KAFKA_BOOTSTRAP_SERVERS', 'a:9092,,b:99999', 'host:port'],
    ['KAFKA_TOPIC', 'bad topic!', 'Kafka topic name'],
    ['DYNAMODB_TABLE', 'ab', 'DynamoDB table name'],
    ['DYNAMODB_TABLE', 'offsets/table', 'DynamoDB table name'],
    ['DYNAMODB_ENDPOINT', 'localhost:8000', 'http(s) URL'],
    ['LOG_LEVEL', 'LOUD', 'DEBUG, INFO, WARN, ERROR'],
    ['TIMEOUT_MARGIN_MS', '1h', 'milliseconds'],
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

  it('treats an empty value as unset', () => {
    expect(loadConfig({ ...minimal, KAFKA_GROUP_ID: '' }).kafkaGroupId).toBe('lambda-consumer-group')
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
