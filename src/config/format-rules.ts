/**
 * The rules between the format settings, which no single setting's schema can check: a
 * registry format (avro, protobuf, json-schema) needs SCHEMA_REGISTRY, a Confluent registry
 * its URL, Glue a region; a registry setting nothing reads through is a mistake. Each broken
 * rule is a `ConfigProblem` naming the key to change, the value seen and what is allowed.
 */
import { isRegistryFormat } from '../processing/value-formats.ts'
import type { ConfigProblem } from './errors.ts'
import type { Config, Environment } from './schema.ts'

type FormatSettings = Pick<Config, 'valueFormat' | 'keyFormat' | 'schemaRegistry' | 'schemaRegistryUrl'>

/** The AWS region the Glue client signs for: Lambda sets AWS_REGION. */
export function glueRegionOf(env: Environment): string | undefined {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION
}

/** The broken rules; `failed` holds the keys whose own value was already reported as invalid. */
export function formatProblems(
  config: Partial<FormatSettings>,
  env: Environment,
  failed: ReadonlySet<string> = new Set(),
): ConfigProblem[] {
  if (failed.has('VALUE_FORMAT') || failed.has('KEY_FORMAT') || failed.has('SCHEMA_REGISTRY')) return []
  const problems: ConfigProblem[] = []
  const through = [
    ...(config.valueFormat !== undefined && isRegistryFormat(config.valueFormat)
      ? [`VALUE_FORMAT=${config.valueFormat}`]
      : []),
    ...(config.keyFormat !== undefined && isRegistryFormat(config.keyFormat)
      ? [`KEY_FORMAT=${config.keyFormat}`]
      : []),
  ]
  const registry = config.schemaRegistry
  if (through.length > 0 && registry === undefined) {
    problems.push({
      key: 'SCHEMA_REGISTRY',
      value: undefined,
      expected: `one of: confluent, glue (${through.join(' and ')} reads schemas from a registry)`,
    })
  }
  if (through.length === 0) {
    const why =
      'neither VALUE_FORMAT nor KEY_FORMAT reads through a schema registry; set one to avro, protobuf or json-schema, or unset this'
    if (registry !== undefined)
      problems.push({ key: 'SCHEMA_REGISTRY', value: registry, expected: `unset: ${why}` })
    if (config.schemaRegistryUrl !== undefined && !failed.has('SCHEMA_REGISTRY_URL')) {
      problems.push({
        key: 'SCHEMA_REGISTRY_URL',
        value: config.schemaRegistryUrl,
        expected: `unset: ${why}`,
      })
    }
    return problems
  }
  if (
    registry === 'confluent' &&
    config.schemaRegistryUrl === undefined &&
    !failed.has('SCHEMA_REGISTRY_URL')
  ) {
    problems.push({
      key: 'SCHEMA_REGISTRY_URL',
      value: undefined,
      expected:
        'the base URL of the Confluent-compatible registry (required with SCHEMA_REGISTRY=confluent), e.g. "https://schema-registry.example.com:8081"',
    })
  }
  if (registry === 'glue') {
    if (config.schemaRegistryUrl !== undefined) {
      problems.push({
        key: 'SCHEMA_REGISTRY_URL',
        value: config.schemaRegistryUrl,
        expected:
          'unset: SCHEMA_REGISTRY=glue reaches AWS Glue in AWS_REGION (AWS_ENDPOINT_URL_GLUE for another endpoint)',
      })
    }
    if (glueRegionOf(env) === undefined) {
      problems.push({
        key: 'AWS_REGION',
        value: undefined,
        expected:
          'the AWS region of the Glue Schema Registry, e.g. "eu-west-1" (Lambda sets it; set it when running elsewhere)',
      })
    }
  }
  return problems
}
