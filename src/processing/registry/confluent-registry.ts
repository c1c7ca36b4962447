/**
 * A Confluent-compatible schema registry (Confluent's own, Apicurio's ccompat API, Karapace,
 * Redpanda, ...) over its REST API: one GET /schemas/ids/{id} per schema, with basic auth when
 * the Kafka secret holds `schemaRegistryUsername` and `schemaRegistryPassword`. Node's own
 * fetch; each call ends when its signal aborts.
 */
import { messageOf } from '../../errors.ts'
import { SchemaNotFoundError, SchemaRegistryAccessError, SchemaRegistryUnavailableError } from './errors.ts'
import type { RegistrySchema, SchemaLanguage, SchemaSource } from './schema-source.ts'

export interface BasicAuth {
  readonly username: string
  readonly password: string
}

export interface ConfluentRegistryOptions {
  /** SCHEMA_REGISTRY_URL, e.g. `https://registry.example.com` (a path prefix is kept). */
  readonly url: string
  /** Read for each fetch, so a rotated password in the secret is picked up. */
  readonly auth?: () => Promise<BasicAuth | undefined>
}

const LANGUAGES: Readonly<Record<string, SchemaLanguage>> = {
  AVRO: 'avro',
  PROTOBUF: 'protobuf',
  JSON: 'json-schema',
}

export function createConfluentRegistry(options: ConfluentRegistryOptions): SchemaSource {
  const base = options.url.replace(/\/+$/, '')
  const name = `the schema registry at ${base}`
  return {
    name,
    wireFormat: 'confluent',
    async fetch(id, signal): Promise<RegistrySchema> {
      const auth = await options.auth?.()
      let response: Response
      try {
        response = await fetch(`${base}/schemas/ids/${encodeURIComponent(id)}`, {
          headers: {
            Accept: 'application/vnd.schemaregistry.v1+json, application/json',
            ...(auth && {
              Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
            }),
          },
          signal,
        })
      } catch (error) {
        throw new SchemaRegistryUnavailableError(name, id, `the request failed (${causeOf(error)})`, error)
      }
      if (response.status === 404) {
        await response.body?.cancel()
        throw new SchemaNotFoundError(name, id)
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel()
        throw new SchemaRegistryAccessError(
          name,
          id,
          `HTTP ${response.status}${auth ? ` for user "${auth.username}"` : ' (no credentials were sent)'}`,
          'Put the registry\'s user and password in the Kafka secret as "schemaRegistryUsername" and ' +
            '"schemaRegistryPassword" (KAFKA_SECRET_ARN or KAFKA_SECRET_FILE), and check that the user may read schemas.',
        )
      }
      if (!response.ok) {
        await response.body?.cancel()
        const problem = `HTTP ${response.status} ${response.statusText}`.trim()
        if (response.status >= 500 || response.status === 429)
          throw new SchemaRegistryUnavailableError(name, id, problem)
        throw new SchemaRegistryAccessError(
          name,
          id,
          problem,
          'Check SCHEMA_REGISTRY_URL: it must be the base URL of a Confluent-compatible API.',
        )
      }
      let body: unknown
      try {
        body = await response.json()
      } catch (error) {
        throw new SchemaRegistryUnavailableError(
          name,
          id,
          `the answer is not JSON (${messageOf(error)})`,
          error,
        )
      }
      if (
        typeof body !== 'object' ||
        body === null ||
        !('schema' in body) ||
        typeof body.schema !== 'string'
      ) {
        throw new SchemaRegistryAccessError(
          name,
          id,
          'the answer has no "schema" text',
          'Check SCHEMA_REGISTRY_URL: it must be the base URL of a Confluent-compatible API.',
        )
      }
      const type = 'schemaType' in body && typeof body.schemaType === 'string' ? body.schemaType : 'AVRO'
      const language = LANGUAGES[type.toUpperCase()]
      if (language === undefined) {
        throw new SchemaRegistryAccessError(
          name,
          id,
          `its schema type is ${type}`,
          'Only AVRO, PROTOBUF and JSON schemas can be decoded.',
        )
      }
      return { language, definition: body.schema }
    },
  }
}

/** undici puts the reason (ECONNREFUSED, a DNS failure) in the cause of its "fetch failed". */
function causeOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time'
  const cause = error instanceof Error ? error.cause : undefined
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string')
    return cause.code
  return messageOf(cause ?? error)
}
