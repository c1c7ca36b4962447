/**
 * JSON Schema through a registry: the payload is UTF-8 JSON, parsed, then validated against
 * the schema the message names (Ajv; drafts 06 and 07, 2019-09 and 2020-12, by `$schema`).
 * Unknown keywords (a registry's own annotations) are allowed. Loaded only with
 * VALUE_FORMAT=json-schema.
 */
import { isUtf8 } from 'node:buffer'
import { Ajv, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { FormatError } from '../errors.ts'
import { jsonReason } from '../value-formats.ts'
import type { SchemaCompiler } from './compiled-schema.ts'

/** Most validation errors a dead letter lists. */
const MAX_ERRORS_SHOWN = 5

function validatorOf(schema: unknown): ValidateFunction {
  const dialect =
    typeof schema === 'object' && schema !== null && '$schema' in schema ? String(schema.$schema) : ''
  const options = { strict: false, allErrors: true, validateFormats: false }
  const ajv = dialect.includes('2020-12')
    ? new Ajv2020(options)
    : dialect.includes('2019-09')
      ? new Ajv2019(options)
      : new Ajv(options)
  return ajv.compile(schema as object)
}

export const compileJsonSchema: SchemaCompiler = (definition, schemaId) => {
  const validate = validatorOf(JSON.parse(definition))
  return {
    decode(payload, part) {
      if (!isUtf8(payload))
        throw new FormatError('not-json-schema', `the ${part} is not valid UTF-8, so not JSON`)
      let value: unknown
      try {
        value = JSON.parse(payload.toString('utf8'))
      } catch (error) {
        throw new FormatError('not-json-schema', `the ${part} is not JSON (${jsonReason(error)})`, error)
      }
      if (!validate(value)) {
        const errors = validate.errors ?? []
        const shown = errors
          .slice(0, MAX_ERRORS_SHOWN)
          .map(
            (error) =>
              `${error.instancePath === '' ? '(root)' : error.instancePath} ${error.message ?? 'is invalid'}`,
          )
        const more = errors.length > shown.length ? ` (and ${errors.length - shown.length} more)` : ''
        throw new FormatError(
          'not-json-schema',
          `the ${part} does not match its JSON Schema ${schemaId}: ${shown.join('; ')}${more}`,
        )
      }
      return value
    },
  }
}
