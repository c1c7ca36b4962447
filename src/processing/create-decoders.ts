/**
 * The decoders of the configured VALUE_FORMAT and KEY_FORMAT, built once per cold start.
 * The plain formats are here already; a registry format imports its registry client and its
 * schema library only now (dynamic imports), so the default JSON path loads none of them.
 */
import type { GlueClientConfig } from '@aws-sdk/client-glue'
import type { Config, Environment } from '../config/schema.ts'
import type { SchemaCompiler } from './registry/compiled-schema.ts'
import type { BasicAuth } from './registry/confluent-registry.ts'
import type { SchemaSource } from './registry/schema-source.ts'
import { type BytesDecoder, plainDecoder, type RegistryFormat } from './value-formats.ts'

export type DecoderSettings = Pick<
  Config,
  | 'valueFormat'
  | 'keyFormat'
  | 'schemaRegistry'
  | 'schemaRegistryUrl'
  | 'schemaRegistryTimeoutMs'
  | 'kafkaSecretArn'
  | 'kafkaSecretFile'
  | 'kafkaSecretMaxAgeMs'
>

export interface FormatDecoders {
  readonly value: BytesDecoder
  readonly key: BytesDecoder
  /** The registry the formats fetch their schemas from; undefined when no format uses one. */
  readonly registry?: SchemaSource
  /** Closes the registry client, if one was made. */
  close(): void
}

export interface DecoderDependencies {
  /** The registry's basic auth; default: from the Kafka secret (registry-credentials.ts). */
  readonly schemaRegistryAuth?: () => Promise<BasicAuth | undefined>
  /** With SCHEMA_REGISTRY=glue: region, credentials (endpoint from AWS_ENDPOINT_URL_GLUE). */
  readonly glue?: GlueClientConfig
  /** Instead of the configured registry (tests). */
  readonly source?: SchemaSource
}

async function compilerFor(format: RegistryFormat): Promise<SchemaCompiler> {
  switch (format) {
    case 'avro':
      return (await import('./registry/avro-schema.ts')).compileAvro
    case 'protobuf':
      return (await import('./registry/protobuf-schema.ts')).compileProtobuf
    case 'json-schema':
      return (await import('./registry/json-schema.ts')).compileJsonSchema
  }
}

async function sourceFor(
  config: DecoderSettings,
  env: Environment,
  dependencies: DecoderDependencies,
): Promise<SchemaSource> {
  if (dependencies.source !== undefined) return dependencies.source
  if (config.schemaRegistry === 'glue') {
    return (await import('./registry/glue-registry.ts')).createGlueRegistry(dependencies.glue ?? {})
  }
  const [{ createConfluentRegistry }, { registryAuthFrom }] = await Promise.all([
    import('./registry/confluent-registry.ts'),
    import('./registry/registry-credentials.ts'),
  ])
  // Its own reader: the Kafka side reads the secret only when the cluster needs credentials.
  const secretReader =
    config.kafkaSecretArn !== undefined && dependencies.schemaRegistryAuth === undefined
      ? await import('../kafka/secrets-manager-reader.ts').then((secrets) =>
          secrets.createSecretsManagerReader(secrets.createSecretsManagerClient(env, config.kafkaSecretArn)),
        )
      : undefined
  const auth = dependencies.schemaRegistryAuth ?? registryAuthFrom(config, secretReader && { secretReader })
  // loadConfig guarantees the URL with SCHEMA_REGISTRY=confluent.
  return createConfluentRegistry({ url: config.schemaRegistryUrl ?? '', ...(auth && { auth }) })
}

export async function createDecoders(
  config: DecoderSettings,
  env: Environment,
  dependencies: DecoderDependencies = {},
): Promise<FormatDecoders> {
  const plainValue = plainDecoder(config.valueFormat, 'value')
  const plainKey = plainDecoder(config.keyFormat, 'key')
  if (plainValue !== undefined && plainKey !== undefined) {
    return { value: plainValue, key: plainKey, close: () => {} }
  }
  const [{ RegistryDecoder }, source] = await Promise.all([
    import('./registry/registry-decoder.ts'),
    sourceFor(config, env, dependencies),
  ])
  const throughRegistry = async (format: RegistryFormat) =>
    new RegistryDecoder({
      format,
      source,
      compile: await compilerFor(format),
      timeoutMs: config.schemaRegistryTimeoutMs,
    })
  // A format without a plain decoder is a registry one (value-formats.ts).
  const [value, key] = await Promise.all([
    plainValue ?? throughRegistry(config.valueFormat as RegistryFormat),
    plainKey ?? throughRegistry(config.keyFormat as RegistryFormat),
  ])
  return { value, key, registry: source, close: () => source.close?.() }
}
