/**
 * The AWS Glue Schema Registry through the AWS SDK: one GetSchemaVersion per schema version
 * id (the function's role needs `glue:GetSchemaVersion`). The region is AWS_REGION; the SDK
 * takes another endpoint from AWS_ENDPOINT_URL_GLUE (moto's server in the tests). Loaded only
 * with SCHEMA_REGISTRY=glue, so the Glue client costs nothing otherwise.
 */
import {
  GetSchemaVersionCommand,
  type GetSchemaVersionCommandOutput,
  GlueClient,
  type GlueClientConfig,
} from '@aws-sdk/client-glue'
import { messageOf } from '../../errors.ts'
import { SchemaNotFoundError, SchemaRegistryAccessError, SchemaRegistryUnavailableError } from './errors.ts'
import type { RegistryCheck, RegistrySchema, SchemaLanguage, SchemaSource } from './schema-source.ts'

const LANGUAGES: Readonly<Record<string, SchemaLanguage>> = {
  AVRO: 'avro',
  PROTOBUF: 'protobuf',
  JSON: 'json-schema',
}

const GRANT_FIX = "Grant the function's role glue:GetSchemaVersion on the registry and its schemas."
/** A schema version id no registry holds (`lkc doctor` asks for it: "not found" means allowed). */
const PROBE_VERSION_ID = '00000000-0000-4000-8000-000000000000'

export function createGlueRegistry(clientConfig: GlueClientConfig): SchemaSource {
  const client = new GlueClient({
    // Bounded per attempt; the caller's signal bounds the whole call, retries included.
    requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 },
    maxAttempts: 2,
    ...clientConfig,
  })
  const name = `the AWS Glue Schema Registry${typeof clientConfig.region === 'string' ? ` (${clientConfig.region})` : ''}`
  return {
    name,
    wireFormat: 'glue',
    async fetch(id, signal): Promise<RegistrySchema> {
      let answer: GetSchemaVersionCommandOutput
      try {
        answer = await client.send(new GetSchemaVersionCommand({ SchemaVersionId: id }), {
          abortSignal: signal,
        })
      } catch (error) {
        const code = error instanceof Error ? error.name : ''
        if (code === 'EntityNotFoundException' || code === 'InvalidInputException')
          throw new SchemaNotFoundError(name, id, error)
        if (code === 'AccessDeniedException') {
          throw new SchemaRegistryAccessError(name, id, messageOf(error), GRANT_FIX, error)
        }
        throw new SchemaRegistryUnavailableError(
          name,
          id,
          `${code || 'the request failed'}: ${messageOf(error)}`,
          error,
        )
      }
      if (answer.Status === 'PENDING') {
        throw new SchemaRegistryUnavailableError(name, id, 'the schema version is still PENDING registration')
      }
      const language = LANGUAGES[answer.DataFormat ?? '']
      if (answer.Status !== 'AVAILABLE' || answer.SchemaDefinition === undefined || language === undefined) {
        throw new SchemaNotFoundError(name, id)
      }
      return { language, definition: answer.SchemaDefinition }
    },
    async check(signal): Promise<RegistryCheck> {
      // Glue authorizes before it looks: "not found" for an id nobody has means the call is allowed.
      try {
        await client.send(new GetSchemaVersionCommand({ SchemaVersionId: PROBE_VERSION_ID }), {
          abortSignal: signal,
        })
      } catch (error) {
        const code = error instanceof Error ? error.name : ''
        if (code === 'EntityNotFoundException') {
          return { ok: true, detail: `${name} answers; these credentials may call glue:GetSchemaVersion` }
        }
        if (code === 'AccessDeniedException') {
          return {
            ok: false,
            detail: `${name} refused glue:GetSchemaVersion: ${messageOf(error)}`,
            fix: GRANT_FIX,
          }
        }
        return {
          ok: false,
          detail: `no answer from ${name}: ${code || 'the request failed'}: ${messageOf(error)}`,
          fix: "Check AWS_REGION (the registry's region), the credentials, and that the function reaches Glue (in a VPC: a NAT gateway or a Glue interface endpoint).",
        }
      }
      return { ok: true, detail: `${name} answers` }
    },
    close: () => client.destroy(),
  }
}
