import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import { loadConfig } from '../../../src/config/schema.ts'

const base = { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092', KAFKA_TOPIC: 'orders' }

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig({ ...base, ...env })
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(({ key, expected }) => ({ key, expected }))
    throw error
  }
  return []
}

describe('the format settings', () => {
  it('default to JSON values and text keys, with no registry', () => {
    const config = loadConfig(base)

    expect(config).toMatchObject({ valueFormat: 'json', keyFormat: 'string', schemaRegistryTimeoutMs: 5000 })
    expect(config.schemaRegistry).toBeUndefined()
  })

  it('take a Confluent-compatible registry with its URL, or Glue with a region', () => {
    expect(
      loadConfig({
        ...base,
        VALUE_FORMAT: 'avro',
        KEY_FORMAT: 'protobuf',
        SCHEMA_REGISTRY: 'confluent',
        SCHEMA_REGISTRY_URL: 'https://registry.example.com:8081/api',
      }),
    ).toMatchObject({
      valueFormat: 'avro',
      keyFormat: 'protobuf',
      schemaRegistryUrl: 'https://registry.example.com:8081/api',
    })
    expect(
      loadConfig({ ...base, VALUE_FORMAT: 'json-schema', SCHEMA_REGISTRY: 'glue', AWS_REGION: 'eu-west-1' }),
    ).toMatchObject({ valueFormat: 'json-schema', schemaRegistry: 'glue' })
  })

  it('a registry format needs SCHEMA_REGISTRY, naming the format that needs it', () => {
    expect(problemsOf({ VALUE_FORMAT: 'protobuf' })).toEqual([
      {
        key: 'SCHEMA_REGISTRY',
        expected: 'one of: confluent, glue (VALUE_FORMAT=protobuf reads schemas from a registry)',
      },
    ])
  })

  it('confluent needs its URL; glue refuses one and needs a region', () => {
    expect(problemsOf({ VALUE_FORMAT: 'avro', SCHEMA_REGISTRY: 'confluent' }).map(({ key }) => key)).toEqual([
      'SCHEMA_REGISTRY_URL',
    ])
    expect(
      problemsOf({
        KEY_FORMAT: 'avro',
        SCHEMA_REGISTRY: 'glue',
        SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
      }).map(({ key }) => key),
    ).toEqual(['SCHEMA_REGISTRY_URL', 'AWS_REGION'])
  })

  it('a registry that no format reads through is a mistake', () => {
    expect(problemsOf({ SCHEMA_REGISTRY: 'glue' })).toEqual([
      {
        key: 'SCHEMA_REGISTRY',
        expected:
          'unset: neither VALUE_FORMAT nor KEY_FORMAT reads through a schema registry; set one to avro, protobuf or json-schema, or unset this',
      },
    ])
  })

  it('refuses a URL with credentials in it, a key format that is not one, and unknown formats', () => {
    expect(
      problemsOf({
        VALUE_FORMAT: 'avro',
        SCHEMA_REGISTRY: 'confluent',
        SCHEMA_REGISTRY_URL: 'https://u:p@r.example.com',
      }).map(({ key }) => key),
    ).toEqual(['SCHEMA_REGISTRY_URL'])
    expect(problemsOf({ KEY_FORMAT: 'json-schema' }).map(({ key }) => key)).toEqual(['KEY_FORMAT'])
    expect(problemsOf({ VALUE_FORMAT: 'xml' })).toEqual([
      { key: 'VALUE_FORMAT', expected: 'one of: json, string, bytes, avro, protobuf, json-schema' },
    ])
  })

  it('lets a Kafka secret hold only the registry credentials when the cluster needs none', () => {
    expect(() =>
      loadConfig({
        ...base,
        VALUE_FORMAT: 'avro',
        SCHEMA_REGISTRY: 'confluent',
        SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
        KAFKA_SECRET_FILE: './secret.json',
      }),
    ).not.toThrow()
    expect(problemsOf({ KAFKA_SECRET_FILE: './secret.json' }).map(({ key }) => key)).toEqual([
      'KAFKA_SECURITY_PROTOCOL',
    ])
  })
})
