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

describe('unknownKeys', () => {
  it("reports look-alike variables (likely typos) but not other tools' ones", () => {
    expect(
      unknownKeys({
        ...minimal,
        KAFKA_TOPICS: 'x',
        DYNAMODB_TABEL: 'y',
        KAFKA_HEAP_OPTS: '-Xmx1g',
        HOME: '/root',
      }),
    ).toEqual(['KAFKA_TOPICS', 'DYNAMODB_TABEL'])
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
