/**
 * Where the Kafka credentials come from, read once at cold start: a Secrets Manager secret
 * (KAFKA_SECRET_ARN), a local JSON file of the same shape (KAFKA_SECRET_FILE), environment
 * variables (KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD) and PEM files (KAFKA_SSL_*_FILE).
 *
 * The secret is JSON: `username` and `password` (PLAIN, SCRAM; the shape Amazon MSK uses for
 * SCRAM secrets) and/or `ca`, `cert`, `key`, `keyPassword` (PEM text, for TLS). Other fields
 * are ignored. Values are never put in an error message or a log line: errors name the
 * source and the field only.
 *
 * From Secrets Manager, the user and password are handed to the Kafka client as functions
 * reading through a cache (KAFKA_SECRET_MAX_AGE_MS): each new connection uses the current
 * value, so a rotated password is picked up without a cold start. TLS material is read once.
 */

import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile as readFileFromDisk } from 'node:fs/promises'
import { ConfigError, type ConfigProblem } from '../config/errors.ts'
import type { Config } from '../config/schema.ts'
import { messageOf } from '../errors.ts'
import { KafkaCredentialsError } from './errors.ts'

/** The fields of a Kafka secret; every one optional. */
export interface KafkaSecret {
  readonly username?: string
  readonly password?: string
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  readonly keyPassword?: string
}

const SECRET_FIELDS = ['username', 'password', 'ca', 'cert', 'key', 'keyPassword'] as const

/** Reads a secret's string value, from a cache younger than `maxAgeMs` or afresh. */
export interface SecretReader {
  read(secretId: string, maxAgeMs: number): Promise<string>
}

/** A value now, or a function the Kafka client calls for the current value at each authentication. */
export type Credential = string | (() => Promise<string>)

export interface KafkaCredentials {
  readonly username?: Credential
  readonly password?: Credential
  /** PEM text. */
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  readonly keyPassword?: string
  /** For messages: the user as known at start (never the password). */
  readonly usernameAtStart?: string
  /** For messages: where the SASL credentials, the CAs and the client certificate come from. */
  readonly credentialsFrom?: string
  readonly caFrom?: string
  readonly clientCertificateFrom?: string
}

/** The settings credentials come from. */
export type CredentialSettings = Pick<
  Config,
  | 'kafkaSaslUsername'
  | 'kafkaSaslPassword'
  | 'kafkaSecretArn'
  | 'kafkaSecretFile'
  | 'kafkaSecretMaxAgeMs'
  | 'kafkaSslCaFile'
  | 'kafkaSslCertFile'
  | 'kafkaSslKeyFile'
>

export interface CredentialSources {
  /** Needed only when KAFKA_SECRET_ARN is set. */
  readonly secretReader?: SecretReader
  readonly readFile?: (path: string) => Promise<string>
}

/** Parses a secret's text; `source` names it in errors (`the secret arn:...`, `KAFKA_SECRET_FILE (./x.json)`). */
export function parseKafkaSecret(text: string, source: string): KafkaSecret {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // The parser's message quotes the text: it is not passed on.
    throw new KafkaCredentialsError(
      source,
      `${source} is not valid JSON (its content is not shown). Store a JSON object with "username" and "password" (PLAIN, SCRAM) and/or "ca", "cert", "key" (PEM text).`,
    )
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KafkaCredentialsError(
      source,
      `${source} is JSON but not an object. Store a JSON object with "username" and "password" and/or "ca", "cert", "key".`,
    )
  }
  const secret: Record<string, string> = {}
  for (const field of SECRET_FIELDS) {
    const value = (parsed as Record<string, unknown>)[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string' || value.length === 0) {
      throw new KafkaCredentialsError(
        source,
        `The "${field}" of ${source} is not a non-empty string (it is ${value === '' ? 'empty' : typeof value}).`,
      )
    }
    secret[field] = value
  }
  return secret
}

export async function resolveKafkaCredentials(
  config: CredentialSettings,
  sources: CredentialSources = {},
): Promise<KafkaCredentials> {
  const readFile = sources.readFile ?? ((path: string) => readFileFromDisk(path, 'utf8'))
  const problems: ConfigProblem[] = []
  const fileText = async (key: string, path: string, expected: string) => {
    try {
      return await readFile(path)
    } catch (error) {
      problems.push({ key, value: path, expected: `${expected} (${codeOf(error)})` })
      return undefined
    }
  }

  let secret: KafkaSecret = {}
  let secretSource: string | undefined
  let readSecret: (() => Promise<KafkaSecret>) | undefined
  if (config.kafkaSecretArn !== undefined) {
    const arn = config.kafkaSecretArn
    const reader = sources.secretReader
    if (reader === undefined) throw new KafkaCredentialsError(arn, 'No Secrets Manager reader was given.')
    secretSource = `the secret ${arn}`
    readSecret = async () =>
      parseKafkaSecret(await reader.read(arn, config.kafkaSecretMaxAgeMs), `the secret ${arn}`)
    secret = await readSecret()
  } else if (config.kafkaSecretFile !== undefined) {
    secretSource = `KAFKA_SECRET_FILE (${config.kafkaSecretFile})`
    const text = await fileText('KAFKA_SECRET_FILE', config.kafkaSecretFile, 'a readable JSON file')
    if (text !== undefined) secret = parseKafkaSecret(text, secretSource)
  }

  // One place per value: a value both in a variable and in the secret is a mistake waiting to happen.
  const fromBoth = (key: string, field: keyof KafkaSecret, value: string | undefined) => {
    if (value !== undefined && secret[field] !== undefined && secretSource !== undefined) {
      problems.push({
        key,
        value: key === 'KAFKA_SASL_PASSWORD' ? '***' : value,
        expected: `unset: ${secretSource} has a "${field}" too; keep it in one place only`,
      })
    }
  }
  fromBoth('KAFKA_SASL_USERNAME', 'username', config.kafkaSaslUsername)
  fromBoth('KAFKA_SSL_CA_FILE', 'ca', config.kafkaSslCaFile)
  fromBoth('KAFKA_SSL_CERT_FILE', 'cert', config.kafkaSslCertFile)
  fromBoth('KAFKA_SSL_KEY_FILE', 'key', config.kafkaSslKeyFile)

  const pem = async (key: string, path: string | undefined, kind: string) =>
    path === undefined ? undefined : fileText(key, path, `a readable PEM file of ${kind}`)
  const [caFile, certFile, keyFile] = await Promise.all([
    pem('KAFKA_SSL_CA_FILE', config.kafkaSslCaFile, 'CA certificates'),
    pem('KAFKA_SSL_CERT_FILE', config.kafkaSslCertFile, 'the client certificate'),
    pem('KAFKA_SSL_KEY_FILE', config.kafkaSslKeyFile, 'the client private key'),
  ])
  if (problems.length > 0) throw new ConfigError(problems)

  const ca = caFile ?? secret.ca
  const cert = certFile ?? secret.cert
  const key = keyFile ?? secret.key
  const caFrom =
    caFile !== undefined
      ? `KAFKA_SSL_CA_FILE (${config.kafkaSslCaFile})`
      : secret.ca
        ? secretSource
        : undefined
  const certFrom =
    certFile !== undefined
      ? `KAFKA_SSL_CERT_FILE (${config.kafkaSslCertFile})`
      : secret.cert
        ? secretSource
        : undefined
  const keyFrom =
    keyFile !== undefined
      ? `KAFKA_SSL_KEY_FILE (${config.kafkaSslKeyFile})`
      : secret.key
        ? secretSource
        : undefined
  checkTlsMaterial({ ca, cert, key, keyPassword: secret.keyPassword }, { caFrom, certFrom, keyFrom })

  const username = config.kafkaSaslUsername ?? secret.username
  const password = config.kafkaSaslPassword ?? secret.password
  const credentialsFrom =
    config.kafkaSaslPassword !== undefined
      ? 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD'
      : config.kafkaSaslUsername !== undefined && secretSource !== undefined
        ? `KAFKA_SASL_USERNAME and ${secretSource}`
        : secretSource

  // From Secrets Manager: read through the cache at each authentication (rotation); else fixed values.
  const live = (field: 'username' | 'password', fixed: string | undefined): Credential | undefined => {
    if (fixed === undefined) return undefined
    if (readSecret === undefined || (field === 'username' && config.kafkaSaslUsername !== undefined))
      return fixed
    const read = readSecret
    return async () => {
      const value = (await read())[field]
      if (value === undefined) {
        throw new KafkaCredentialsError(
          secretSource ?? '',
          `${secretSource} no longer has a "${field}"; store it back (JSON with "username" and "password").`,
        )
      }
      return value
    }
  }
  return {
    ...(username !== undefined && { username: live('username', username), usernameAtStart: username }),
    ...(password !== undefined && { password: live('password', password) }),
    ...(ca !== undefined && { ca }),
    ...(cert !== undefined && { cert }),
    ...(key !== undefined && { key }),
    ...(secret.keyPassword !== undefined && { keyPassword: secret.keyPassword }),
    ...(credentialsFrom !== undefined && { credentialsFrom }),
    ...(caFrom !== undefined && { caFrom }),
    ...(certFrom !== undefined && { clientCertificateFrom: certFrom }),
  }
}

/**
 * Fails at start on TLS material Node.js could not use, naming where it came from: a CA or
 * certificate that is not PEM, a key that does not open, a certificate without its key.
 * OpenSSL's messages name no content, so they are passed on.
 */
function checkTlsMaterial(
  material: { ca?: string; cert?: string; key?: string; keyPassword?: string | undefined },
  from: { caFrom?: string | undefined; certFrom?: string | undefined; keyFrom?: string | undefined },
) {
  const fail = (source: string | undefined, message: string, cause?: unknown) => {
    throw new KafkaCredentialsError(source ?? 'the TLS settings', message, { cause })
  }
  for (const [pemText, source, what] of [
    [material.ca, from.caFrom, 'CA certificates'],
    [material.cert, from.certFrom, 'a client certificate'],
  ] as const) {
    if (pemText === undefined) continue
    try {
      new X509Certificate(pemText)
    } catch (error) {
      fail(
        source,
        `${source} does not hold ${what} in PEM form ("-----BEGIN CERTIFICATE-----"): ${codeOf(error)}.`,
        error,
      )
    }
  }
  if ((material.cert === undefined) !== (material.key === undefined)) {
    const [has, lacks] = material.cert === undefined ? ['a key', 'certificate'] : ['a certificate', 'key']
    fail(
      from.certFrom ?? from.keyFrom,
      `Mutual TLS needs a client certificate and its key: ${from.certFrom ?? from.keyFrom} gives ${has} but no ${lacks}. ` +
        'Set both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE, or both "cert" and "key" in the secret.',
    )
  }
  if (material.key !== undefined) {
    let privateKey: ReturnType<typeof createPrivateKey> | undefined
    try {
      privateKey = createPrivateKey({
        key: material.key,
        ...(material.keyPassword !== undefined && { passphrase: material.keyPassword }),
      })
    } catch (error) {
      fail(
        from.keyFrom,
        `${from.keyFrom} does not hold a usable PEM private key (${codeOf(error)}); an encrypted key needs "keyPassword" in the secret.`,
        error,
      )
    }
    if (
      material.cert !== undefined &&
      privateKey !== undefined &&
      !new X509Certificate(material.cert).checkPrivateKey(privateKey)
    ) {
      fail(
        from.keyFrom,
        `The client key from ${from.keyFrom} does not belong to the certificate from ${from.certFrom}.`,
      )
    }
  }
}

/** A short, content-free description of a failure: its code, else its message. */
function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code === 'ENOENT' ? 'ENOENT: no such file' : error.code
  }
  return messageOf(error)
}
