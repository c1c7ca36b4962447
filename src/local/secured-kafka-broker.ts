/**
 * A local Kafka broker with the doors real clusters have, for the security tests and for trying
 * each auth method locally. Next to the PLAINTEXT listener (also the inter-broker one; the
 * controller stays on PLAINTEXT too) it opens:
 *
 *   SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (SCRAM users created at format time)
 *   SASL_SSL        the same mechanisms over TLS (the broker's certificate is signed by a test CA)
 *   SSL             TLS only, no client certificate
 *   MTLS            TLS with a client certificate required (mutual TLS), signed by the same CA
 *
 * The TLS listeners advertise `localhost`, the name in the broker's certificate.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, type KafkaBroker, type KafkaBrokerOptions, startKafkaBroker } from './kafka-broker.ts'
import { createTestCertificates, type TestCertificates } from './test-certificates.ts'

export interface KafkaUser {
  readonly username: string
  readonly password: string
}

export interface SecuredListeners {
  /** host:port of each listener, as a client bootstraps from it. */
  readonly plaintext: string
  readonly saslPlaintext: string
  readonly saslSsl: string
  readonly ssl: string
  readonly mtls: string
}

export interface SecuredKafkaBroker {
  readonly broker: KafkaBroker
  readonly listeners: SecuredListeners
  /** A user known to every SASL mechanism (PLAIN and both SCRAMs), with the same password. */
  readonly user: KafkaUser
  readonly certificates: TestCertificates
  stop(): Promise<void>
}

export interface SecuredKafkaBrokerOptions
  extends Pick<KafkaBrokerOptions, 'onLog' | 'startTimeoutMs' | 'logLevels'> {
  /** Default: `alice` with a random password. */
  readonly user?: KafkaUser
}

const SCRAM = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const

export async function startSecuredKafkaBroker(
  options: SecuredKafkaBrokerOptions = {},
): Promise<SecuredKafkaBroker> {
  // Hex only: SCRAM credentials on the format command line are split on `,` `=` `[` `]`.
  const user = options.user ?? { username: 'alice', password: randomBytes(12).toString('hex') }
  const certsDir = await mkdtemp(join(tmpdir(), 'lkc-certs-'))
  try {
    const certificates = await createTestCertificates(certsDir)
    const [port, controllerPort, saslPlaintext, saslSsl, ssl, mtls] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    )
    const host = certificates.brokerHostName
    const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${user.username}="${user.password}";`
    const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    const extraProperties: Record<string, string> = {
      listeners: [
        `PLAINTEXT://127.0.0.1:${port}`,
        `CONTROLLER://127.0.0.1:${controllerPort}`,
        `SASL_PLAINTEXT://127.0.0.1:${saslPlaintext}`,
        `SASL_SSL://127.0.0.1:${saslSsl}`,
        `SSL://127.0.0.1:${ssl}`,
        `MTLS://127.0.0.1:${mtls}`,
      ].join(','),
      'advertised.listeners': [
        `PLAINTEXT://127.0.0.1:${port}`,
        `SASL_PLAINTEXT://127.0.0.1:${saslPlaintext}`,
        `SASL_SSL://${host}:${saslSsl}`,
        `SSL://${host}:${ssl}`,
        `MTLS://${host}:${mtls}`,
      ].join(','),
      'listener.security.protocol.map':
        'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,MTLS:SSL',
      'sasl.enabled.mechanisms': ['PLAIN', ...SCRAM].join(','),
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': certificates.brokerKeyStore,
      'ssl.keystore.password': certificates.storePassword,
      'ssl.key.password': certificates.storePassword,
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': certificates.brokerTrustStore,
      'ssl.truststore.password': certificates.storePassword,
      'listener.name.mtls.ssl.client.auth': 'required',
    }
    for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
      extraProperties[`listener.name.${listener}.plain.sasl.jaas.config`] = plainJaas
      for (const mechanism of SCRAM) {
        extraProperties[`listener.name.${listener}.${mechanism.toLowerCase()}.sasl.jaas.config`] = scramJaas
      }
    }
    const broker = await startKafkaBroker({
      ...options,
      port,
      controllerPort,
      extraProperties,
      formatArguments: SCRAM.flatMap((mechanism) => [
        '--add-scram',
        `${mechanism}=[name=${user.username},password=${user.password}]`,
      ]),
    })
    return {
      broker,
      user,
      certificates,
      listeners: {
        plaintext: broker.bootstrapServers,
        saslPlaintext: `127.0.0.1:${saslPlaintext}`,
        saslSsl: `${host}:${saslSsl}`,
        ssl: `${host}:${ssl}`,
        mtls: `${host}:${mtls}`,
      },
      async stop() {
        await broker.stop()
        await rm(certsDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(certsDir, { recursive: true, force: true })
    throw error
  }
}

/**
 * The JSON secret file (the shape of the Secrets Manager secret) holding everything needed to
 * use any listener: the user, the password, the CA and the client certificate and key.
 */
export async function writeSecretFile(secured: SecuredKafkaBroker, path: string): Promise<void> {
  const [ca, cert, key] = await Promise.all(
    [
      secured.certificates.caFile,
      secured.certificates.clientCertFile,
      secured.certificates.clientKeyFile,
    ].map((file) => readFile(file, 'utf8')),
  )
  const secret = { username: secured.user.username, password: secured.user.password, ca, cert, key }
  await writeFile(path, `${JSON.stringify(secret, null, 2)}\n`, { mode: 0o600 })
}

/** One line of `export`s per way in, using the secret file: no password is printed. */
export function securedListenerExports(
  listeners: SecuredListeners,
  secretFile: string,
  caFile: string,
): string[] {
  const line = (what: string, settings: Record<string, string>) =>
    `# ${what}:\n#   export ${Object.entries(settings)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ')}`
  const sasl = (listener: string, protocol: string, mechanism: string) => ({
    KAFKA_BOOTSTRAP_SERVERS: listener,
    KAFKA_SECURITY_PROTOCOL: protocol,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SECRET_FILE: secretFile,
  })
  return [
    line('SCRAM-SHA-512 over TLS (as on Amazon MSK)', sasl(listeners.saslSsl, 'SASL_SSL', 'SCRAM-SHA-512')),
    line('SCRAM-SHA-256 without TLS', sasl(listeners.saslPlaintext, 'SASL_PLAINTEXT', 'SCRAM-SHA-256')),
    line('PLAIN over TLS', sasl(listeners.saslSsl, 'SASL_SSL', 'PLAIN')),
    line('TLS only', {
      KAFKA_BOOTSTRAP_SERVERS: listeners.ssl,
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SSL_CA_FILE: caFile,
    }),
    line('mutual TLS', {
      KAFKA_BOOTSTRAP_SERVERS: listeners.mtls,
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SECRET_FILE: secretFile,
    }),
  ]
}
