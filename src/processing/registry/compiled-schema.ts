/**
 * A registry schema made ready to decode with: what each format's compiler returns, and what
 * the registry decoder caches by schema id for the life of the function (ids never change
 * what they name).
 */
import type { RecordPart } from '../value-formats.ts'
import type { WireFormat } from './wire-format.ts'

export interface CompiledSchema {
  /** Decodes what follows the wire-format header; throws a `FormatError` when it does not fit. */
  decode(payload: Buffer, part: RecordPart): unknown
}

/** Makes a schema's text ready; throws (any error) when the text is not a schema of its language. */
export type SchemaCompiler = (definition: string, schemaId: string, wire: WireFormat) => CompiledSchema
