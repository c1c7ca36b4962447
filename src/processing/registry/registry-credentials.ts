/**
 * The basic-auth credentials of a Confluent-compatible registry, from the Kafka secret: its
 * optional fields `schemaRegistryUsername` and `schemaRegistryPassword`, beside the Kafka
 * ones (the Kafka side ignores them). From Secrets Manager (KAFKA_SECRET_ARN) they are read
 * through the reader's cache for each schema fetch, so a rotated password is picked up; from
 * KAFKA_SECRET_FILE, once. No secret, or a secret without them: no auth. Values never appear
 * in an error.
 */
import { readFile as readFileFromDisk } from 'node:fs/promises'
import type { Config } from '../../config/schema.ts'
import type { SecretReader } from '../../kafka/kafka-credentials.ts'
import type { BasicAuth } from './confluent-registry.ts'
import { SchemaRegistryAccessError } from './errors.ts'

export type RegistryCredentialSettings = Pick<
  Config,
  'kafkaSecretArn' | 'kafkaSecretFile' | 'kafkaSecretMaxAgeMs'
>

export interface RegistryCredentialSources {
  /** Needed only when KAFKA_SECRET_ARN is set. */
  readonly secretReader?: SecretReader
  readonly readFile?: (path: string) => Promise<string>
}

/** The two fields of a secret's JSON text; `source` names it in errors. */
export function registryAuthIn(text: string, source: string): BasicAuth | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new SchemaRegistryAccessError(
      'the schema registry',
      '(any)',
      `${source} is not valid JSON (its content is not shown)`,
      'Store a JSON object in it.',
    )
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { schemaRegistryUsername: username, schemaRegistryPassword: password } = parsed as Record<
    string,
    unknown
  >
  if (username === undefined && password === undefined) return undefined
  if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
    throw new SchemaRegistryAccessError(
      'the schema registry',
      '(any)',
      `${source} has only one of "schemaRegistryUsername" and "schemaRegistryPassword", or one that is not a non-empty string`,
      'Store both as non-empty strings, or neither.',
    )
  }
  return { username, password }
}

/** Undefined when no secret is configured: the registry is then asked without credentials. */
export function registryAuthFrom(
  config: RegistryCredentialSettings,
  sources: RegistryCredentialSources = {},
): (() => Promise<BasicAuth | undefined>) | undefined {
  const arn = config.kafkaSecretArn
  if (arn !== undefined) {
    const reader = sources.secretReader
    if (reader === undefined) return undefined
    return async () => registryAuthIn(await reader.read(arn, config.kafkaSecretMaxAgeMs), `the secret ${arn}`)
  }
  const path = config.kafkaSecretFile
  if (path === undefined) return undefined
  const readFile = sources.readFile ?? ((file: string) => readFileFromDisk(file, 'utf8'))
  let once: Promise<BasicAuth | undefined> | undefined
  return () => {
    once ??= readFile(path).then((text) => registryAuthIn(text, `KAFKA_SECRET_FILE (${path})`))
    return once
  }
}
