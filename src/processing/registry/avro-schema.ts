/**
 * Avro through a registry: the writer's schema (the one the message names) decodes the
 * binary payload with avsc. Records come out as objects, `bytes` and `fixed` as Buffers,
 * unions as their value, `long` as a number (avsc refuses one beyond 2^53, so nothing is
 * silently rounded). Loaded only with VALUE_FORMAT or KEY_FORMAT avro.
 */
import avro from 'avsc'
import { messageOf } from '../../errors.ts'
import { FormatError } from '../errors.ts'
import type { SchemaCompiler } from './compiled-schema.ts'

export const compileAvro: SchemaCompiler = (definition, schemaId) => {
  const type = avro.Type.forSchema(JSON.parse(definition))
  return {
    decode(payload, part) {
      try {
        return type.fromBuffer(payload)
      } catch (error) {
        throw new FormatError(
          'not-avro',
          `the ${part} does not decode as Avro with schema ${schemaId}: ${messageOf(error)}`,
          error,
        )
      }
    },
  }
}
