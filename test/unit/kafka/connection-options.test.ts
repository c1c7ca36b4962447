import { type Connection, saslOAuthBearer } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import { type Environment, loadConfig } from '../../../src/config/schema.ts'
import { createKafkaSecurity } from '../../../src/kafka/connection-options.ts'
import { KafkaCredentialsError } from '../../../src/kafka/errors.ts'
import type { SecretReader } from '../../../src/kafka/kafka-credentials.ts'
import type { MskTokenSigner } from '../../../src/kafka/msk-iam-token-provider.ts'

const base = { KAFKA_BOOTSTRAP_SERVERS: 'kafka-1.example:9093', KAFKA_TOPIC: 'orders' }
const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf'

function security(env: Environment, dependencies: Parameters<typeof createKafkaSecurity>[2] = {}) {
  return createKafkaSecurity(loadConfig(env), env, dependencies)
}

/** A Secrets Manager stand-in: the current value of each secret, and every read. */
function fakeSecrets(values: Record<string, string>) {
  const reads: Array<{ id: string; maxAgeMs: number }> = []
  const reader: SecretReader = {
    async read(id, maxAgeMs) {
      reads.push({ id, maxAgeMs })
      const value = values[id]
      if (value === undefined) throw new Error(`ResourceNotFoundException: ${id}`)
      return value
    },
  }
  return { reader, reads, values }
}

/** The password or user the client would get: a value, or what its provider returns now. */
async function currentValue(credential: string | (() => string | Promise<string>) | undefined) {
  return typeof credential === 'function' ? await credential() : credential
}

describe('createKafkaSecurity', () => {
  it('adds nothing for PLAINTEXT', async () => {
    expect(await security(base)).toEqual({ client: {}, auth: { securityProtocol: 'PLAINTEXT' } })
  })

  it('SCRAM over TLS from variables: sasl and tls options, the system CAs, SNI on host names', async () => {
    const result = await security({
      ...base,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'alice',
      KAFKA_SASL_PASSWORD: 'alice-secret',
    })

    expect(result.client).toEqual({
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' },
      tls: { minVersion: 'TLSv1.2' },
      tlsServerName: true,
    })
    expect(result.auth).toEqual({
      securityProtocol: 'SASL_SSL',
      mechanism: 'SCRAM-SHA-512',
      username: 'alice',
      credentialsFrom: 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
      trustedCas: 'the system CAs',
    })
  })

  it('PLAIN without TLS has no tls options; IP brokers get no SNI', async () => {
    const plain = await security({
      ...base,
      KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'bob',
      KAFKA_SASL_PASSWORD: 'pw',
    })
    const ip = await security({
      ...base,
      KAFKA_BOOTSTRAP_SERVERS: '10.0.0.5:9094',
      KAFKA_SECURITY_PROTOCOL: 'SSL',
    })

    expect(plain.client).toEqual({ sasl: { mechanism: 'PLAIN', username: 'bob', password: 'pw' } })
    expect(ip.client).toEqual({ tls: { minVersion: 'TLSv1.2' }, tlsServerName: false })
  })

  it('reads the secret at start, then hands the client functions that read through the cache (rotation)', async () => {
    const secrets = fakeSecrets({ [arn]: JSON.stringify({ username: 'alice', password: 'first-password' }) })
    const env = {
      ...base,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SECRET_ARN: arn,
      KAFKA_SECRET_MAX_AGE_MS: '60000',
    }

    const result = await security(env, { secretReader: secrets.reader })
    const readsAtStart = secrets.reads.length
    secrets.values[arn] = JSON.stringify({ username: 'alice', password: 'rotated-password' })
    const password = await currentValue(result.client.sasl?.password)
    const username = await currentValue(result.client.sasl?.username)

    expect(readsAtStart).toBe(1)
    expect(secrets.reads[0]).toEqual({ id: arn, maxAgeMs: 60_000 })
    expect(password).toBe('rotated-password')
    expect(username).toBe('alice')
    expect(result.auth).toMatchObject({ username: 'alice', credentialsFrom: `the secret ${arn}` })
  })

  it('takes the user from KAFKA_SASL_USERNAME when the secret holds only the password', async () => {
    const secrets = fakeSecrets({ [arn]: JSON.stringify({ password: 'pw' }) })

    const result = await security(
      {
        ...base,
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: 'carol',
        KAFKA_SECRET_ARN: arn,
      },
      { secretReader: secrets.reader },
    )

    expect(result.client.sasl?.username).toBe('carol')
    expect(await currentValue(result.client.sasl?.password)).toBe('pw')
    expect(result.auth.credentialsFrom).toBe(`KAFKA_SASL_USERNAME and the secret ${arn}`)
  })

  it('fails at start when the secret lacks the password, naming the secret and the field only', async () => {
    const secrets = fakeSecrets({
      [arn]: JSON.stringify({ username: 'alice', pasword: 'typo-in-field-name' }),
    })

    const error = await security(
      {
        ...base,
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SECRET_ARN: arn,
      },
      { secretReader: secrets.reader },
    ).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(KafkaCredentialsError)
    expect((error as Error).message).toBe(
      `SCRAM-SHA-512 needs a password, and the secret ${arn} has no "password". Store JSON with "username" and "password" in it.`,
    )
  })

  it('fails at start on a secret that is not JSON, without quoting it', async () => {
    const secrets = fakeSecrets({ [arn]: 'username=alice password=not-json-secret' })

    const error = await security(
      { ...base, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SECRET_ARN: arn },
      { secretReader: secrets.reader },
    ).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(KafkaCredentialsError)
    expect((error as Error).message).toContain(
      `the secret ${arn} is not valid JSON (its content is not shown)`,
    )
    expect((error as Error).message).not.toContain('not-json-secret')
    expect(String((error as Error).cause ?? '')).not.toContain('not-json-secret')
  })

  it('reads a local secret file; a missing one is a config error naming the key and the path', async () => {
    const files: Record<string, string> = {
      '/secrets/kafka.json': '{"username":"dave","password":"file-pw"}',
    }
    const readFile = async (path: string) => {
      const text = files[path]
      if (text === undefined) throw Object.assign(new Error(`ENOENT: open '${path}'`), { code: 'ENOENT' })
      return text
    }
    const env = { ...base, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' }

    const found = await security({ ...env, KAFKA_SECRET_FILE: '/secrets/kafka.json' }, { readFile })
    const missing = await security({ ...env, KAFKA_SECRET_FILE: '/secrets/nope.json' }, { readFile }).catch(
      (thrown: unknown) => thrown,
    )

    expect(found.client.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'dave', password: 'file-pw' })
    expect(found.auth.credentialsFrom).toBe('KAFKA_SECRET_FILE (/secrets/kafka.json)')
    expect(missing).toBeInstanceOf(ConfigError)
    expect((missing as ConfigError).problems).toEqual([
      {
        key: 'KAFKA_SECRET_FILE',
        value: '/secrets/nope.json',
        expected: 'a readable JSON file (ENOENT: no such file)',
      },
    ])
  })

  it('fails at start on a CA file that is not PEM, naming the file', async () => {
    const readFile = async () => 'this is not a certificate'

    const error = await security(
      { ...base, KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: './ca.pem' },
      { readFile },
    ).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(KafkaCredentialsError)
    expect((error as Error).message).toContain(
      'KAFKA_SSL_CA_FILE (./ca.pem) does not hold CA certificates in PEM form',
    )
  })

  it('rejects a value given twice, in a variable and in the secret', async () => {
    const secrets = fakeSecrets({ [arn]: JSON.stringify({ username: 'alice', password: 'pw' }) })

    const error = await security(
      {
        ...base,
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: 'mallory',
        KAFKA_SECRET_ARN: arn,
      },
      { secretReader: secrets.reader },
    ).catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toEqual([
      {
        key: 'KAFKA_SASL_USERNAME',
        value: 'mallory',
        expected: `unset: the secret ${arn} has a "username" too; keep it in one place only`,
      },
    ])
  })
})

describe('createKafkaSecurity with AWS_MSK_IAM', () => {
  const mskEnv = {
    KAFKA_BOOTSTRAP_SERVERS: 'b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com:9098',
    KAFKA_TOPIC: 'orders',
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'AWS_MSK_IAM',
  }

  /** What the client sends in SaslAuthenticate, through the client's own OAUTHBEARER code. */
  async function authenticateBytes(token: Parameters<typeof saslOAuthBearer.authenticate>[2]) {
    const sent: Buffer[] = []
    const api = ((
      _connection: Connection,
      authBytes: Buffer,
      callback: (error: null, response: object) => void,
    ) => {
      sent.push(authBytes)
      callback(null, { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n })
    }) as unknown as Parameters<typeof saslOAuthBearer.authenticate>[0]
    await saslOAuthBearer.authenticate(api, {} as Connection, token, {})
    return sent.map((bytes) => bytes.toString('utf8'))
  }

  it('signs a token for the region at start and hands it to the client as SASL/OAUTHBEARER, refreshed before expiry', async () => {
    let now = 1_700_000_000_000
    const regions: string[] = []
    const signer: MskTokenSigner = async (region) => {
      regions.push(region)
      return { token: `signed-${regions.length}`, expiryTime: now + 900_000 }
    }

    const result = await security(mskEnv, { mskTokenSigner: signer, clock: () => now })
    const signedAtStart = regions.length
    const firstAuthentication = await authenticateBytes(result.client.sasl?.token ?? '')
    now += 800_000 // a re-authentication late in the token's life
    const reauthentication = await authenticateBytes(result.client.sasl?.token ?? '')

    expect(result.client.sasl?.mechanism).toBe('OAUTHBEARER')
    expect(result.client.tls).toEqual({ minVersion: 'TLSv1.2' })
    expect(result.auth).toEqual({
      securityProtocol: 'SASL_SSL',
      mechanism: 'AWS_MSK_IAM',
      trustedCas: 'the system CAs',
    })
    expect(signedAtStart).toBe(1)
    expect(regions).toEqual(['eu-west-1', 'eu-west-1'])
    expect(firstAuthentication).toEqual(['n,,\u0001auth=Bearer signed-1\u0001\u0001'])
    expect(reauthentication).toEqual(['n,,\u0001auth=Bearer signed-2\u0001\u0001'])
  })

  it('fails at start, naming the region, when no token can be signed', async () => {
    const signer: MskTokenSigner = async () => {
      throw new Error('Could not load credentials from any providers')
    }

    const error = await security({ ...mskEnv, AWS_REGION: 'eu-central-1' }, { mskTokenSigner: signer }).catch(
      (thrown: unknown) => thrown,
    )

    expect(error).toBeInstanceOf(KafkaCredentialsError)
    expect((error as Error).message).toContain('Could not sign the AWS_MSK_IAM token for region eu-central-1')
  })
})
