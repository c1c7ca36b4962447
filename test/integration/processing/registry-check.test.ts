/**
 * What `lkc doctor` asks a schema registry (`SchemaSource.check`), against real servers: the
 * Confluent-compatible registry the tests start, and moto's AWS Glue server. Each way it can go
 * wrong is told apart, with its fix: wrong credentials, a URL that is not a registry's, a
 * registry failing, one that never answers, one not listening.
 */
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConfluentRegistry } from '../../../src/processing/registry/confluent-registry.ts'
import { createGlueRegistry } from '../../../src/processing/registry/glue-registry.ts'
import { startTestSchemaRegistry, type TestSchemaRegistry } from '../../support/schema-registry.ts'
import { services } from '../../support/services.ts'

const USER = { username: 'consumer', password: 'right' }
let open: TestSchemaRegistry
let guarded: TestSchemaRegistry

beforeAll(async () => {
  open = await startTestSchemaRegistry()
  guarded = await startTestSchemaRegistry({ auth: USER })
})
afterAll(async () => {
  await Promise.all([open.stop(), guarded.stop()])
})

const within = (ms: number) => AbortSignal.timeout(ms)

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('a Confluent-compatible registry, checked', () => {
  it('answers with its schema types, as the user the secret names', async () => {
    const registry = createConfluentRegistry({ url: guarded.url, auth: async () => USER })

    const found = await registry.check(within(2000))

    expect(found).toEqual({
      ok: true,
      detail: `${guarded.url} answers as user "consumer"; schema types JSON, PROTOBUF, AVRO`,
    })
  })

  it('tells a wrong password, and no credentials at all, with where they go', async () => {
    const wrong = await createConfluentRegistry({
      url: guarded.url,
      auth: async () => ({ username: 'consumer', password: 'wrong' }),
    }).check(within(2000))
    const none = await createConfluentRegistry({ url: guarded.url }).check(within(2000))

    expect(wrong).toMatchObject({ ok: false, detail: `${guarded.url} refused as user "consumer": HTTP 401` })
    expect(wrong.fix).toContain('"schemaRegistryUsername" and "schemaRegistryPassword"')
    expect(none.detail).toBe(`${guarded.url} refused (no credentials were sent): HTTP 401`)
  })

  it('tells a URL that is not a registry API from a registry that is down', async () => {
    const notRegistry = await createConfluentRegistry({ url: `${open.url}/not-here` }).check(within(2000))
    open.mode = 'down'
    const down = await createConfluentRegistry({ url: open.url })
      .check(within(2000))
      .finally(() => {
        open.mode = 'ok'
      })

    expect(notRegistry).toMatchObject({
      ok: false,
      detail: `${open.url}/not-here/schemas/types answered HTTP 404: not a Confluent-compatible registry API`,
      fix: expect.stringContaining('SCHEMA_REGISTRY_URL'),
    })
    expect(down).toMatchObject({ ok: false, detail: `${open.url} is failing: HTTP 503` })
  })

  it('gives up on a registry that never answers, and on one not listening', async () => {
    open.mode = 'hang'
    const started = Date.now()
    const hung = await createConfluentRegistry({ url: open.url })
      .check(within(300))
      .finally(() => {
        open.mode = 'ok'
      })
    const elapsed = Date.now() - started
    const url = `http://127.0.0.1:${await closedPort()}`
    const refused = await createConfluentRegistry({ url }).check(within(2000))

    expect(hung).toMatchObject({ ok: false, detail: `no answer from ${open.url} (no answer in time)` })
    expect(hung.fix).toContain('SCHEMA_REGISTRY_TIMEOUT_MS')
    expect(elapsed).toBeLessThan(5000)
    expect(refused).toMatchObject({ ok: false, detail: `no answer from ${url} (ECONNREFUSED)` })
  })

  it('says so when the credentials cannot be read', async () => {
    const found = await createConfluentRegistry({
      url: open.url,
      auth: async () => {
        throw new Error('AccessDeniedException: not allowed to read the secret')
      },
    }).check(within(2000))

    expect(found).toMatchObject({
      ok: false,
      detail: 'could not read its user and password: AccessDeniedException: not allowed to read the secret',
    })
  })
})

describe('the AWS Glue Schema Registry (moto), checked', () => {
  const local = { accessKeyId: 'local', secretAccessKey: 'local' }

  it('answers: the credentials may call glue:GetSchemaVersion', async () => {
    const registry = createGlueRegistry({
      region: 'us-east-1',
      endpoint: services().sqsEndpoint,
      credentials: local,
    })

    const found = await registry.check(within(5000))
    registry.close?.()

    expect(found).toEqual({
      ok: true,
      detail:
        'the AWS Glue Schema Registry (us-east-1) answers; these credentials may call glue:GetSchemaVersion',
    })
  })

  it('fails an endpoint nothing listens on, naming the region and the network', async () => {
    const registry = createGlueRegistry({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: local,
    })

    const found = await registry.check(within(5000))
    registry.close?.()

    expect(found.ok).toBe(false)
    expect(found.detail).toMatch(/^no answer from the AWS Glue Schema Registry \(eu-west-1\): /)
    expect(found.fix).toContain('AWS_REGION')
  })
})
