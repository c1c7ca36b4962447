/**
 * A Confluent-compatible schema registry (Confluent's own, Apicurio's ccompat API, Karapace,
 * Redpanda, ...) over its REST API: one GET /schemas/ids/{id} per schema, with basic auth when
 * the Kafka secret holds `schemaRegistryUsername` and `schemaRegistryPassword`; `lkc doctor`
 * asks GET /schemas/types. Node's own fetch; each call ends when its signal aborts.
 */
import { messageOf } from '../../errors.ts'
import { SchemaNotFoundError, SchemaRegistryAccessError, SchemaRegistryUnavailableError } from './errors.ts'
import type { RegistryCheck, RegistrySchema, SchemaLanguage, SchemaSource } from './schema-source.ts'

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

const CREDENTIALS_FIX =
  'Put the registry\'s user and password in the Kafka secret as "schemaRegistryUsername" and ' +
  '"schemaRegistryPassword" (KAFKA_SECRET_ARN or KAFKA_SECRET_FILE), and check that the user may read schemas.'
const URL_FIX = 'Check SCHEMA_REGISTRY_URL: it must be the base URL of a Confluent-compatible API.'
const REACH_FIX =
  "Check SCHEMA_REGISTRY_URL, and that the function's network reaches it (in a VPC: a route and a security group " +
  'rule to the registry); or raise SCHEMA_REGISTRY_TIMEOUT_MS.'

function headersFor(auth: BasicAuth | undefined): Record<string, string> {
  return {
    Accept: 'application/vnd.schemaregistry.v1+json, application/json',
    ...(auth && {
      Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
    }),
  }
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
          headers: headersFor(auth),
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
          CREDENTIALS_FIX,
        )
      }
      if (!response.ok) {
        await response.body?.cancel()
        const problem = `HTTP ${response.status} ${response.statusText}`.trim()
        if (response.status >= 500 || response.status === 429)
          throw new SchemaRegistryUnavailableError(name, id, problem)
        throw new SchemaRegistryAccessError(name, id, problem, URL_FIX)
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
        throw new SchemaRegistryAccessError(name, id, 'the answer has no "schema" text', URL_FIX)
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
    check: (signal) => checkRegistry(base, options.auth, signal),
  }
}

/**
 * GET /schemas/types: every Confluent-compatible API answers it (Confluent's since 5.5,
 * Apicurio's ccompat API, Karapace, Redpanda) with the schema types it serves, behind the same
 * authentication as the schemas.
 */
async function checkRegistry(
  base: string,
  readAuth: ConfluentRegistryOptions['auth'],
  signal: AbortSignal,
): Promise<RegistryCheck> {
  let auth: BasicAuth | undefined
  try {
    auth = await readAuth?.()
  } catch (error) {
    return {
      ok: false,
      detail: `could not read its user and password: ${messageOf(error)}`,
      fix: CREDENTIALS_FIX,
    }
  }
  const asUser = auth ? ` as user "${auth.username}"` : ''
  let response: Response
  try {
    response = await fetch(`${base}/schemas/types`, { headers: headersFor(auth), signal })
  } catch (error) {
    return { ok: false, detail: `no answer from ${base} (${causeOf(error)})`, fix: REACH_FIX }
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel()
    return {
      ok: false,
      detail: `${base} refused${asUser || ' (no credentials were sent)'}: HTTP ${response.status}`,
      fix: CREDENTIALS_FIX,
    }
  }
  if (response.status >= 500 || response.status === 429) {
    await response.body?.cancel()
    return {
      ok: false,
      detail: `${base} is failing: HTTP ${response.status}`,
      fix: 'Runs stop before each registry-encoded message until it answers (nothing is dead-lettered for it); check the registry.',
    }
  }
  let types: unknown
  try {
    types = response.ok ? await response.json() : undefined
  } catch (error) {
    if (signal.aborted)
      return { ok: false, detail: `no answer from ${base} (${causeOf(error)})`, fix: REACH_FIX }
    types = undefined
  }
  if (!response.ok) await response.body?.cancel()
  if (!Array.isArray(types) || !types.every((type) => typeof type === 'string')) {
    const answer = response.ok ? 'no list of schema types' : `HTTP ${response.status}`
    return {
      ok: false,
      detail: `${base}/schemas/types answered ${answer}: not a Confluent-compatible registry API`,
      fix: URL_FIX,
    }
  }
  return { ok: true, detail: `${base} answers${asUser}; schema types ${types.join(', ') || 'none'}` }
}

/** undici puts the reason (ECONNREFUSED, a DNS failure) in the cause of its "fetch failed". */
function causeOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time'
  const cause = error instanceof Error ? error.cause : undefined
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string')
    return cause.code
  return messageOf(cause ?? error)
}
