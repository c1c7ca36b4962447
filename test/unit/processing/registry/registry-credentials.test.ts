import { describe, expect, it } from 'vitest'
import { SchemaRegistryAccessError } from '../../../../src/processing/registry/errors.ts'
import { registryAuthFrom } from '../../../../src/processing/registry/registry-credentials.ts'

const settings = { kafkaSecretMaxAgeMs: 60_000 }

describe('the registry credentials from the Kafka secret', () => {
  it('reads schemaRegistryUsername and schemaRegistryPassword from Secrets Manager, through its cache each time', async () => {
    const reads: Array<[string, number]> = []
    let password = 'first'
    const auth = registryAuthFrom(
      { ...settings, kafkaSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf' },
      {
        secretReader: {
          read: async (id, maxAgeMs) => {
            reads.push([id, maxAgeMs])
            return JSON.stringify({
              username: 'kafka',
              schemaRegistryUsername: 'reg',
              schemaRegistryPassword: password,
            })
          },
        },
      },
    )

    expect(await auth?.()).toEqual({ username: 'reg', password: 'first' })
    password = 'rotated'
    expect(await auth?.()).toEqual({ username: 'reg', password: 'rotated' })
    expect(reads).toHaveLength(2)
    expect(reads[0]?.[1]).toBe(60_000)
  })

  it('reads the secret file once; a secret without the fields means no auth; no secret, no function', async () => {
    let reads = 0
    const auth = registryAuthFrom(
      { ...settings, kafkaSecretFile: './secret.json' },
      {
        readFile: async () => {
          reads++
          return JSON.stringify({ username: 'kafka', password: 'k' })
        },
      },
    )

    expect(await auth?.()).toBeUndefined()
    expect(await auth?.()).toBeUndefined()
    expect(reads).toBe(1)
    expect(registryAuthFrom(settings)).toBeUndefined()
  })

  it('refuses half a pair, without showing any value', async () => {
    const auth = registryAuthFrom(
      { ...settings, kafkaSecretFile: './secret.json' },
      { readFile: async () => JSON.stringify({ schemaRegistryUsername: 'reg', schemaRegistryPassword: '' }) },
    )

    const error = await auth?.().catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(SchemaRegistryAccessError)
    expect((error as Error).message).toContain('KAFKA_SECRET_FILE (./secret.json) has only one of')
    expect((error as Error).message).not.toContain('reg"')
  })
})
