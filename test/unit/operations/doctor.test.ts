import { describe, expect, it } from 'vitest'
import {
  KafkaCredentialsError,
  KafkaUnavailableError,
  TopicNotFoundError,
} from '../../../src/kafka/errors.ts'
import { type DoctorProbes, formatDoctor, runDoctor } from '../../../src/operations/doctor.ts'

const env = { KAFKA_BOOTSTRAP_SERVERS: 'b-1:9092', KAFKA_TOPIC: 'orders' }

function probes(overrides: Partial<DoctorProbes> = {}): DoctorProbes {
  return {
    credentials: async () => 'found',
    partitions: async () => ({ count: 3, withoutLeader: 0 }),
    describeTable: async () => ({
      status: 'ACTIVE',
      keySchema: [
        { name: 'consumer_id', keyType: 'HASH', type: 'S' },
        { name: 'partition', keyType: 'RANGE', type: 'N' },
      ],
    }),
    readOffsets: async () => 3,
    lease: async () => undefined,
    registry: async () => undefined,
    ...overrides,
  }
}

const verdicts = (results: Awaited<ReturnType<typeof runDoctor>>) =>
  Object.fromEntries(results.map((result) => [result.check, result.verdict]))

describe('runDoctor', () => {
  it('passes every check when everything is in place', async () => {
    const results = await runDoctor(env, async () => probes())

    expect(verdicts(results)).toEqual({
      config: 'ok',
      'kafka broker': 'ok',
      'kafka topic': 'ok',
      'dynamodb credentials': 'ok',
      'dynamodb table': 'ok',
      'offsets read': 'ok',
      'run lease': 'ok',
      'schema registry': 'skip',
    })
    expect(results.at(-1)?.detail).toBe('not used (VALUE_FORMAT json, KEY_FORMAT string)')
  })

  it('warns about a lease held by a run, with when it frees itself', async () => {
    const expiresAt = Date.now() + 30_000
    const results = await runDoctor(env, async () =>
      probes({ lease: async () => ({ holder: 'run-42', expiresAt }) }),
    )

    expect(results.find((result) => result.check === 'run lease')).toMatchObject({
      check: 'run lease',
      verdict: 'warn',
      detail: `held by run-42 until ${new Date(expiresAt).toISOString()}`,
      fix: expect.stringContaining('frees itself'),
    })
  })

  it('reports Kafka credentials that cannot be read (a secret, a file) and skips the rest', async () => {
    const results = await runDoctor(env, async () => {
      throw new KafkaCredentialsError(
        'arn:x',
        'Could not read the secret arn:x from Secrets Manager: AccessDeniedException',
      )
    })

    expect(results[1]).toMatchObject({
      check: 'kafka credentials',
      verdict: 'fail',
      detail: 'Could not read the secret arn:x from Secrets Manager: AccessDeniedException',
    })
    expect(results.slice(2).map((result) => result.check)).toEqual([
      'kafka broker',
      'kafka topic',
      'dynamodb credentials',
      'dynamodb table',
      'offsets read',
      'run lease',
      'schema registry',
    ])
    expect(results.slice(2).every((result) => result.verdict === 'skip')).toBe(true)
  })

  it('stops at a bad config, naming the key, and skips the rest', async () => {
    const results = await runDoctor({ ...env, MAX_MESSAGES: 'many' }, async () => probes())

    expect(results[0]).toMatchObject({
      check: 'config',
      verdict: 'fail',
      detail: expect.stringContaining('MAX_MESSAGES'),
    })
    expect(results.slice(1).every((result) => result.verdict === 'skip')).toBe(true)
  })

  it('tells an unreachable broker from a missing topic', async () => {
    const unreachable = await runDoctor(env, async () =>
      probes({
        partitions: async () => {
          throw new KafkaUnavailableError('metadata', ['b-1:9092'], 'connect ECONNREFUSED')
        },
      }),
    )
    const missing = await runDoctor(env, async () =>
      probes({
        partitions: async () => {
          throw new TopicNotFoundError('orders', ['b-1:9092'])
        },
      }),
    )

    expect(verdicts(unreachable)).toMatchObject({ 'kafka broker': 'fail', 'kafka topic': 'skip' })
    expect(unreachable[1]?.fix).toContain('KAFKA_BOOTSTRAP_SERVERS')
    expect(verdicts(missing)).toMatchObject({ 'kafka broker': 'ok', 'kafka topic': 'fail' })
    expect(missing[2]?.fix).toContain('KAFKA_TOPIC')
  })

  it("fails a table whose keys are not the seed's, with the fix", async () => {
    const results = await runDoctor(env, async () =>
      probes({
        describeTable: async () => ({
          status: 'ACTIVE',
          keySchema: [{ name: 'id', keyType: 'HASH', type: 'S' }],
        }),
      }),
    )

    expect(verdicts(results)).toMatchObject({ 'dynamodb table': 'fail', 'offsets read': 'skip' })
    expect(formatDoctor(results)).toContain(
      'fix: the table needs consumer_id (S, HASH) and partition (N, RANGE)',
    )
  })

  it('skips the table checks without credentials', async () => {
    const results = await runDoctor(env, async () =>
      probes({
        credentials: async () => {
          throw new Error('Could not load credentials from any providers')
        },
      }),
    )

    expect(verdicts(results)).toMatchObject({
      'dynamodb credentials': 'fail',
      'dynamodb table': 'skip',
      'offsets read': 'skip',
    })
  })

  it('checks the schema registry when a format uses one, and fails it with the fix', async () => {
    const avro = {
      ...env,
      VALUE_FORMAT: 'avro',
      SCHEMA_REGISTRY: 'confluent',
      SCHEMA_REGISTRY_URL: 'https://registry.example.com',
    }
    const ok = await runDoctor(avro, async () =>
      probes({ registry: async () => ({ ok: true, detail: 'https://registry.example.com answers' }) }),
    )
    const refused = await runDoctor(avro, async () =>
      probes({
        registry: async () => ({ ok: false, detail: 'HTTP 401', fix: 'put the user in the secret' }),
      }),
    )
    const broken = await runDoctor(avro, async () =>
      probes({
        registry: async () => {
          throw new Error('the probe failed')
        },
      }),
    )

    expect(ok.at(-1)).toEqual({
      check: 'schema registry',
      verdict: 'ok',
      detail: 'https://registry.example.com answers',
    })
    expect(refused.at(-1)).toMatchObject({ verdict: 'fail', detail: 'HTTP 401' })
    expect(formatDoctor(refused)).toContain('fix: put the user in the secret')
    expect(broken.at(-1)).toMatchObject({ verdict: 'fail', detail: 'the probe failed' })
    // Independent of Kafka and DynamoDB: checked whatever they answered.
    expect(verdicts(refused)).toMatchObject({ 'kafka broker': 'ok', 'run lease': 'ok' })
  })
})
