/**
 * Every way in, against a real broker's listeners: SASL/PLAIN and SCRAM-SHA-256/512 over
 * SASL_PLAINTEXT and SASL_SSL, TLS, mutual TLS; credentials from variables, a secret file and
 * Secrets Manager (moto's API on loopback). And the ways of getting it wrong: a wrong password,
 * an unknown user, a wrong CA, the system CAs for a private CA, a wrong server name, no client
 * certificate.
 *
 * The secured broker is started here (the shared one stays PLAINTEXT and quick to start), with
 * its own test CA and user. Everything the code under test says (log lines at every level,
 * errors with all their causes, run summaries, `lkc` output) is kept, and the last test checks
 * that no password, secret or private key appears in any of it.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { messageOf } from '../../../src/errors.ts'
import { errorsIn } from '../../../src/kafka/connection-errors.ts'
import { KafkaAuthenticationError, KafkaTlsError } from '../../../src/kafka/errors.ts'
import { createSender, createTopic } from '../../../src/kafka/topics.ts'
import { createHandler, type RunReport } from '../../../src/lambda/handler.ts'
import { type SecuredKafkaBroker, startSecuredKafkaBroker } from '../../../src/local/secured-kafka-broker.ts'
import type { LogAttributes, Logger } from '../../../src/ports.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { lkc } from '../../support/cli.ts'
import { type MotoServer, startMotoServer } from '../../support/moto-server.ts'
import { numberedMessages, services, storedItems } from '../../support/services.ts'

const GROUP = 'lambda-consumer-group'
const WRONG_PASSWORD = 'wrong-password-0f3c9a'
const UNKNOWN_USER_PASSWORD = 'mallory-password-7d21'

let secured: SecuredKafkaBroker
let moto: MotoServer
let workDir: string
/** The broker's log lines (its failed-authentication lines among them). */
const brokerLog: string[] = []
/** Everything the code under test said: log lines, errors, summaries, CLI output. */
const said: string[] = []
/** Secret strings that must never appear in `said`, beyond the user's password. */
const secretStrings: string[] = []

beforeAll(async () => {
  ;[secured, moto, workDir] = await Promise.all([
    startSecuredKafkaBroker({
      // The broker logs each failed authentication at INFO: counting them shows there is no retry storm.
      logLevels: { 'org.apache.kafka.common.network.Selector': 'INFO' },
      onLog: (line) => brokerLog.push(line),
    }),
    startMotoServer(),
    mkdtemp(join(tmpdir(), 'lkc-auth-')),
  ])
}, 180_000)

afterAll(async () => {
  await Promise.allSettled([
    secured?.stop(),
    moto?.stop(),
    workDir && rm(workDir, { recursive: true, force: true }),
  ])
})

/** A logger that keeps every line at every level, its attributes fully expanded. */
function capturingLogger(): Logger {
  const keep = (level: string) => (message: string, attributes?: LogAttributes) => {
    said.push(
      inspect({ level, message, ...attributes }, { depth: 12, breakLength: Number.POSITIVE_INFINITY }),
    )
  }
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') }
}

/** An error as a log or a debugger would show it: message, stack, every cause and every field. */
function keepError(error: unknown) {
  said.push(inspect(error, { depth: 12 }))
  for (const inner of errorsIn(error)) said.push(messageOf(inner))
}

/** A new topic on the secured broker (through its PLAINTEXT listener) with `count` JSON messages. */
async function topicWith(count: number, partitions = 2): Promise<string> {
  const topic = `auth-${randomUUID().slice(0, 8)}`
  await createTopic({ bootstrapServers: [secured.listeners.plaintext], topic, partitions })
  const sender = createSender([secured.listeners.plaintext])
  try {
    await sender.send(topic, numberedMessages(count, partitions))
  } finally {
    await sender.close()
  }
  return topic
}

/** The consumer's environment for `bootstrap` on the secured broker, with DynamoDB from the shared services. */
function envFor(topic: string, bootstrap: string, overrides: Record<string, string>): Record<string, string> {
  const { dynamodbEndpoint, table } = services()
  return {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
    KAFKA_TOPIC: topic,
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    DYNAMODB_TABLE: table,
    KAFKA_REQUEST_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'DEBUG',
    ...overrides,
  }
}

/** One invocation through the Lambda handler; what it returned or threw, all of it kept. */
async function invoke(env: Record<string, string>) {
  const seen: KafkaMessage[] = []
  const handler = createHandler({
    env,
    logger: capturingLogger(),
    process: (message) => void seen.push(message),
  })
  const started = performance.now()
  let report: RunReport | undefined
  let error: unknown
  try {
    report = await handler({}, { getRemainingTimeInMillis: () => 60_000 })
    said.push(inspect(report, { depth: 12 }))
  } catch (thrown) {
    error = thrown
    keepError(thrown)
  } finally {
    await handler.close()
  }
  return { report, error, seen, durationMs: performance.now() - started }
}

async function cli(args: string[], env: Record<string, string>) {
  const result = await lkc(args, env)
  said.push(result.stdout, result.stderr)
  return result
}

const failedAuthentications = () =>
  brokerLog.filter((line) => line.includes('Failed authentication with')).length

/**
 * The broker's count of failed authentications once it stops changing (its log lines arrive a
 * little after the client's error): waits for it to move past `from` (at most 5 s), then for
 * 1 s without change.
 */
async function settledFailedAuthentications(from = -1): Promise<number> {
  const pause = () => new Promise((wait) => setTimeout(wait, 250))
  for (let round = 0; round < 20 && failedAuthentications() <= from; round++) await pause()
  let last = -1
  // At most 10 s: a count still climbing by then is the retry storm the caller checks for.
  for (let quiet = 0, round = 0; quiet < 4 && round < 40; round++) {
    last = failedAuthentications()
    await pause()
    quiet = failedAuthentications() === last ? quiet + 1 : 0
  }
  return failedAuthentications()
}

const user = () => ({
  KAFKA_SASL_USERNAME: secured.user.username,
  KAFKA_SASL_PASSWORD: secured.user.password,
})
const caFile = () => ({ KAFKA_SSL_CA_FILE: secured.certificates.caFile })
const port = (listener: string) => listener.split(':')[1]

describe('Kafka authentication and TLS against the secured broker', () => {
  it.each([
    ['PLAIN', 'SASL_PLAINTEXT'],
    ['PLAIN', 'SASL_SSL'],
    ['SCRAM-SHA-256', 'SASL_PLAINTEXT'],
    ['SCRAM-SHA-256', 'SASL_SSL'],
    ['SCRAM-SHA-512', 'SASL_PLAINTEXT'],
    ['SCRAM-SHA-512', 'SASL_SSL'],
  ])('SASL/%s over %s: the right credentials consume and save offsets', async (mechanism, protocol) => {
    const topic = await topicWith(5)
    const tls = protocol === 'SASL_SSL'
    const env = envFor(topic, tls ? secured.listeners.saslSsl : secured.listeners.saslPlaintext, {
      KAFKA_SECURITY_PROTOCOL: protocol,
      KAFKA_SASL_MECHANISM: mechanism,
      ...user(),
      ...(tls && caFile()),
    })

    const { report, error, seen } = await invoke(env)

    expect(error).toBeUndefined()
    expect(report?.count).toBe(5)
    expect(seen.map((message) => message.value)).toHaveLength(5)
    expect(
      (await storedItems(`${GROUP}_${topic}`)).map(({ partition, offset }) => ({ partition, offset })),
    ).toEqual([
      { partition: 0, offset: 2 },
      { partition: 1, offset: 1 },
    ])
  })

  it('SSL: TLS with the test CA consumes (the broker name checked)', async () => {
    const topic = await topicWith(3)

    const { report, error } = await invoke(
      envFor(topic, secured.listeners.ssl, { KAFKA_SECURITY_PROTOCOL: 'SSL', ...caFile() }),
    )

    expect(error).toBeUndefined()
    expect(report?.count).toBe(3)
  })

  it('SSL with mutual TLS: a client certificate signed by the CA consumes', async () => {
    const topic = await topicWith(3)

    const { report, error } = await invoke(
      envFor(topic, secured.listeners.mtls, {
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        ...caFile(),
        KAFKA_SSL_CERT_FILE: secured.certificates.clientCertFile,
        KAFKA_SSL_KEY_FILE: secured.certificates.clientKeyFile,
      }),
    )

    expect(error).toBeUndefined()
    expect(report?.count).toBe(3)
  })

  it('credentials from a Secrets Manager secret: user, password and CA, for SCRAM-SHA-512 over SASL_SSL', async () => {
    const topic = await topicWith(4)
    const secretString = JSON.stringify({
      username: secured.user.username,
      password: secured.user.password,
      ca: readFileSync(secured.certificates.caFile, 'utf8'),
    })
    secretStrings.push(secretString)
    const client = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
    const { ARN } = await client.send(
      new CreateSecretCommand({ Name: `AmazonMSK_${topic}`, SecretString: secretString }),
    )
    client.destroy()

    const { report, error } = await invoke(
      envFor(topic, secured.listeners.saslSsl, {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SECRET_ARN: ARN ?? '',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
        AWS_REGION: 'eu-west-1',
      }),
    )

    expect(error).toBeUndefined()
    expect(report?.count).toBe(4)
  })

  it('TLS material from a secret file: CA, client certificate and key, for mutual TLS', async () => {
    const topic = await topicWith(2)
    const secretFile = join(workDir, 'tls-secret.json')
    const secretString = JSON.stringify({
      ca: readFileSync(secured.certificates.caFile, 'utf8'),
      cert: readFileSync(secured.certificates.clientCertFile, 'utf8'),
      key: readFileSync(secured.certificates.clientKeyFile, 'utf8'),
    })
    secretStrings.push(secretString)
    await writeFile(secretFile, secretString, { mode: 0o600 })

    const { report, error } = await invoke(
      envFor(topic, secured.listeners.mtls, {
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        KAFKA_SECRET_FILE: secretFile,
      }),
    )

    expect(error).toBeUndefined()
    expect(report?.count).toBe(2)
  })

  it('a wrong password fails within seconds, naming the user and the mechanism, without a retry storm; nothing is consumed or written', async () => {
    const topic = await topicWith(3)
    const before = await settledFailedAuthentications()

    const { error, seen, durationMs } = await invoke(
      envFor(topic, secured.listeners.saslPlaintext, {
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
        KAFKA_SASL_USERNAME: secured.user.username,
        KAFKA_SASL_PASSWORD: WRONG_PASSWORD,
      }),
    )
    const attempts = (await settledFailedAuthentications(before)) - before

    expect(error).toBeInstanceOf(KafkaAuthenticationError)
    expect((error as Error).message).toBe(
      `Kafka authentication failed at 127.0.0.1:${port(secured.listeners.saslPlaintext)} for user "alice" with SASL mechanism SCRAM-SHA-256 over SASL_PLAINTEXT: ` +
        'the broker says "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256". ' +
        'Check the user and the password (from KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD), and that the user exists for SCRAM-SHA-256 on the cluster.',
    )
    expect((error as KafkaAuthenticationError).retriable).toBe(false)
    expect(durationMs).toBeLessThan(10_000)
    // The client's own bounded attempts (1 + 2 retries), not a storm.
    expect(attempts).toBeGreaterThanOrEqual(1)
    expect(attempts).toBeLessThanOrEqual(3)
    expect(seen).toEqual([])
    expect(await storedItems(`${GROUP}_${topic}`)).toEqual([])
  })

  it('an unknown user is refused the same way, naming that user', async () => {
    const topic = await topicWith(1)

    const { error } = await invoke(
      envFor(topic, secured.listeners.saslSsl, {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'mallory',
        KAFKA_SASL_PASSWORD: UNKNOWN_USER_PASSWORD,
        ...caFile(),
      }),
    )

    expect(error).toBeInstanceOf(KafkaAuthenticationError)
    expect((error as Error).message).toContain(
      `Kafka authentication failed at localhost:${port(secured.listeners.saslSsl)} for user "mallory" with SASL mechanism SCRAM-SHA-512 over SASL_SSL`,
    )
  })

  it('lkc run with a wrong password exits 1 within seconds with the authentication error', async () => {
    const topic = await topicWith(2)

    const result = await cli(
      ['run'],
      envFor(topic, secured.listeners.saslSsl, {
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: secured.user.username,
        KAFKA_SASL_PASSWORD: WRONG_PASSWORD,
        ...caFile(),
      }),
    )

    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      `Kafka authentication failed at localhost:${port(secured.listeners.saslSsl)} for user "alice" with SASL mechanism PLAIN over SASL_SSL: the broker says "Authentication failed: Invalid username or password"`,
    )
    expect(result.durationMs).toBeLessThan(10_000)
    expect(await storedItems(`${GROUP}_${topic}`)).toEqual([])
  })

  it("a wrong CA fails with a TLS error saying the broker's certificate is not trusted, and which CAs were", async () => {
    const topic = await topicWith(1)

    const { error } = await invoke(
      envFor(topic, secured.listeners.ssl, {
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        KAFKA_SSL_CA_FILE: secured.certificates.otherCaFile,
      }),
    )

    expect(error).toBeInstanceOf(KafkaTlsError)
    expect((error as KafkaTlsError).code).toBe('SELF_SIGNED_CERT_IN_CHAIN')
    expect((error as Error).message).toBe(
      `TLS connection to Kafka at localhost:${port(secured.listeners.ssl)} failed: the broker's certificate is not signed by a CA this client trusts: ` +
        `self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN); trusted here: KAFKA_SSL_CA_FILE (${secured.certificates.otherCaFile}). ` +
        "Set KAFKA_SSL_CA_FILE (or `ca` in the secret) to the PEM of the CA that signed the broker's certificate.",
    )
  })

  it('lkc run with the system CAs against a private CA exits 1 with the TLS error', async () => {
    const topic = await topicWith(1)

    const result = await cli(
      ['run'],
      envFor(topic, secured.listeners.ssl, { KAFKA_SECURITY_PROTOCOL: 'SSL' }),
    )

    expect(result.code).toBe(1)
    expect(result.stderr).toContain("the broker's certificate is not signed by a CA this client trusts")
    expect(result.stderr).toContain('trusted here: the system CAs')
  })

  it('a wrong server name fails with a TLS error saying the certificate is not for that name', async () => {
    const topic = await topicWith(1)
    const byAddress = `127.0.0.1:${port(secured.listeners.ssl)}` // the certificate names localhost only

    const { error } = await invoke(envFor(topic, byAddress, { KAFKA_SECURITY_PROTOCOL: 'SSL', ...caFile() }))

    expect(error).toBeInstanceOf(KafkaTlsError)
    expect((error as KafkaTlsError).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    expect((error as Error).message).toContain(
      `TLS connection to Kafka at ${byAddress} failed: the broker's certificate is not issued for the name connected to: ` +
        "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list",
    )
  })

  it('mutual TLS without a client certificate fails with a TLS error saying one is needed', async () => {
    const topic = await topicWith(1)

    const { error } = await invoke(
      envFor(topic, secured.listeners.mtls, { KAFKA_SECURITY_PROTOCOL: 'SSL', ...caFile() }),
    )

    expect(error).toBeInstanceOf(KafkaTlsError)
    expect((error as Error).message).toContain(
      `TLS connection to Kafka at localhost:${port(secured.listeners.mtls)} failed: the broker refused the connection during the TLS handshake`,
    )
    expect((error as Error).message).toContain('Set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE')
  })

  it('lkc produce, status and --help work with SCRAM over TLS and show no secret', async () => {
    const topic = await topicWith(0, 1)
    const env = envFor(topic, secured.listeners.saslSsl, {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      ...user(),
      ...caFile(),
    })

    const produced = await cli(['produce', '--count', '4'], env)
    const run = await cli(['run'], env)
    const status = await cli(['status', '--json'], env)
    const help = await cli(['run', '--help'], env)

    expect(produced.code).toBe(0)
    expect(produced.stdout).toContain(`Sent 4 message(s) to ${topic}`)
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('Run summary: 4 message(s)')
    expect(run.stderr).toMatch(/DEBUG.*Configuration.*KAFKA_SASL_PASSWORD="\*\*\*"/)
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout).partitions).toEqual([
      expect.objectContaining({ storedOffset: 3, lag: 0 }),
    ])
    expect(help.stdout).toContain('KAFKA_SASL_PASSWORD (optional)  [set: ***]')
  })

  it('leaks no password, secret or private key in any log line, error, summary or CLI output', () => {
    const clientKey = readFileSync(secured.certificates.clientKeyFile, 'utf8')
    const forbidden = [
      secured.user.password,
      WRONG_PASSWORD,
      UNKNOWN_USER_PASSWORD,
      secured.certificates.storePassword,
      ...secretStrings,
      'PRIVATE KEY',
      // Each line of the key's base64 body: no piece of the key either.
      ...clientKey.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')),
    ]
    const leaks = (texts: readonly string[]) =>
      texts.flatMap((text, index) => forbidden.filter((secret) => text.includes(secret)).map(() => index))

    // The check itself can fail: a planted leak is found.
    expect(leaks([`oops ${secured.user.password}`])).toEqual([0])
    // What was checked: every test above said something, debug configuration dumps included.
    expect(said.length).toBeGreaterThan(100)
    expect(
      said.some((text) => text.includes('Configuration') && text.includes("KAFKA_SASL_PASSWORD: '***'")),
    ).toBe(true)
    expect(said.some((text) => text.includes('Kafka authentication failed'))).toBe(true)
    expect(said.some((text) => text.includes('TLS connection to Kafka'))).toBe(true)
    expect(leaks(said)).toEqual([])
  })
})
