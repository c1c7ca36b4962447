/**
 * The configuration's security settings as @platformatic/kafka connection options (`sasl`,
 * `tls`), for every Kafka client the project makes: the consumer's source, and the admin and
 * producer of `lkc produce` and the tests. Built once at cold start (credentials may have to be
 * read from Secrets Manager first), with a description of who connects and how, for error
 * messages, that never holds a secret.
 *
 * TLS: Node.js's checks, never loosened: the certificate chain against the given CAs (else
 * the system CAs, which include Amazon MSK's) and the broker's host name.
 */
import { isIP } from 'node:net'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { SASLOptions } from '@platformatic/kafka'
import type { Config, Environment } from '../config/schema.ts'
import { mskIamRegion } from '../config/security-rules.ts'
import { type KafkaAuthDescription, KafkaCredentialsError } from './errors.ts'
import {
  type CredentialSettings,
  type CredentialSources,
  resolveKafkaCredentials,
} from './kafka-credentials.ts'
import { createMskIamTokenProvider, type MskTokenSigner } from './msk-iam-token-provider.ts'

/** What a Kafka client's options take from the security settings. */
export interface KafkaClientSecurity {
  readonly sasl?: SASLOptions
  readonly tls?: TlsOptions
  /** true: send the broker's host name in TLS SNI (some proxies and clouds route by it). */
  readonly tlsServerName?: boolean
}

export interface KafkaSecurity {
  /** Spread into a @platformatic/kafka client's options. */
  readonly client: KafkaClientSecurity
  /** Who connects and how, for errors and logs: no secret in it. */
  readonly auth: KafkaAuthDescription
}

/** No TLS, no SASL: the local broker's default listener. */
export const PLAINTEXT_SECURITY: KafkaSecurity = { client: {}, auth: { securityProtocol: 'PLAINTEXT' } }

export interface KafkaConnection {
  readonly bootstrapServers: readonly string[]
  readonly clientId: string
  readonly requestTimeoutMs: number
  readonly security?: KafkaSecurity
}

/**
 * The options every client of this project shares (the consumer's and the dead-letter
 * producer's): where, who, how long to wait, and a short retry. Never creates topics.
 */
export function baseClientOptions(connection: KafkaConnection) {
  return {
    ...(connection.security ?? PLAINTEXT_SECURITY).client,
    clientId: connection.clientId,
    bootstrapBrokers: [...connection.bootstrapServers],
    connectTimeout: connection.requestTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    timeout: connection.requestTimeoutMs,
    retries: 2,
    retryDelay: 250,
    autocreateTopics: false,
  }
}

export type SecuritySettings = CredentialSettings &
  Pick<Config, 'kafkaBootstrapServers' | 'kafkaSecurityProtocol' | 'kafkaSaslMechanism'>

export interface KafkaSecurityDependencies extends CredentialSources {
  /** Default: signs with the default AWS credential chain. */
  readonly mskTokenSigner?: MskTokenSigner
  readonly clock?: () => number
}

/**
 * Reads the credentials (once: the secret, the files) and builds the options. Fails at start,
 * before anything is consumed, when a credential cannot be read or an MSK IAM token cannot be
 * signed.
 */
export async function createKafkaSecurity(
  config: SecuritySettings,
  env: Environment,
  dependencies: KafkaSecurityDependencies = {},
): Promise<KafkaSecurity> {
  const protocol = config.kafkaSecurityProtocol
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL'
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
  if (!usesTls && !usesSasl) return { client: {}, auth: { securityProtocol: protocol } }

  // Loaded only when a secret ARN is set: the Secrets Manager client is not needed otherwise.
  const secretReader =
    dependencies.secretReader ??
    (config.kafkaSecretArn !== undefined
      ? await import('./secrets-manager-reader.ts').then((secrets) =>
          secrets.createSecretsManagerReader(secrets.createSecretsManagerClient(env, config.kafkaSecretArn)),
        )
      : undefined)
  const credentials = await resolveKafkaCredentials(config, {
    ...dependencies,
    ...(secretReader !== undefined && { secretReader }),
  })

  let sasl: SASLOptions | undefined
  const mechanism = usesSasl ? config.kafkaSaslMechanism : undefined
  if (mechanism === 'AWS_MSK_IAM') {
    const region = mskIamRegion(config.kafkaBootstrapServers, env)
    const token = createMskIamTokenProvider({
      region: region ?? '',
      ...(dependencies.mskTokenSigner !== undefined && { signer: dependencies.mskTokenSigner }),
      ...(dependencies.clock !== undefined && { clock: dependencies.clock }),
    })
    await token() // signs now: missing credentials fail at start, not mid-run
    sasl = { mechanism: 'OAUTHBEARER', token }
  } else if (mechanism !== undefined) {
    for (const field of ['username', 'password'] as const) {
      if (credentials[field] === undefined) {
        const source = credentials.credentialsFrom ?? 'the configuration'
        throw new KafkaCredentialsError(
          source,
          `${mechanism} needs a ${field}, and ${source} has no "${field}". Store JSON with "username" and "password" in it` +
            (field === 'username' ? ', or set KAFKA_SASL_USERNAME.' : '.'),
        )
      }
    }
    sasl = {
      mechanism,
      ...(credentials.username !== undefined && { username: credentials.username }),
      ...(credentials.password !== undefined && { password: credentials.password }),
    }
  }

  let tls: TlsOptions | undefined
  if (usesTls) {
    tls = {
      minVersion: 'TLSv1.2',
      ...(credentials.ca !== undefined && { ca: credentials.ca }),
      ...(credentials.cert !== undefined && { cert: credentials.cert }),
      ...(credentials.key !== undefined && { key: credentials.key }),
      ...(credentials.keyPassword !== undefined && { passphrase: credentials.keyPassword }),
    }
  }

  const auth: KafkaAuthDescription = {
    securityProtocol: protocol,
    ...(usesSasl && mechanism !== undefined && { mechanism }),
    ...(usesSasl &&
      mechanism !== 'AWS_MSK_IAM' &&
      credentials.usernameAtStart !== undefined && {
        username: credentials.usernameAtStart,
      }),
    ...(usesSasl &&
      mechanism !== 'AWS_MSK_IAM' &&
      credentials.credentialsFrom !== undefined && {
        credentialsFrom: credentials.credentialsFrom,
      }),
    ...(usesTls && { trustedCas: credentials.caFrom ?? 'the system CAs' }),
    ...(usesTls &&
      credentials.clientCertificateFrom !== undefined && {
        clientCertificateFrom: credentials.clientCertificateFrom,
      }),
  }
  return {
    client: {
      ...(sasl !== undefined && { sasl }),
      ...(tls !== undefined && { tls }),
      // SNI with the host name; not with IP addresses, which SNI does not allow (RFC 6066).
      ...(tls !== undefined && { tlsServerName: !config.kafkaBootstrapServers.some(isIpHost) }),
    },
    auth,
  }
}

function isIpHost(server: string): boolean {
  const host = server.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  return isIP(host) !== 0
}
