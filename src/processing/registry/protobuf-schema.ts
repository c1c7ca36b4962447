/**
 * Protobuf through a registry: the .proto text the message names is parsed (protobufjs), the
 * message type picked by the wire format's message index, and the payload decoded into a
 * plain object: field names as in the .proto, 64-bit integers as decimal strings (no
 * precision lost), enums by name, absent fields at their defaults, `bytes` as Buffers.
 *
 * Which type an index names differs by registry:
 *   Confluent: a path, the n-th message of the file (in declaration order), then the m-th
 *     message nested in it, and so on;
 *   AWS Glue: one number, the position of the type among all the file's message types
 *     (nested ones and map entries included), sorted by full name.
 * Imports of Google's well-known types (timestamp, duration, wrappers, ...) are understood;
 * other imports (registry schema references) are not. Loaded only with a protobuf format.
 */
import protobuf from 'protobufjs'
import { messageOf } from '../../errors.ts'
import { FormatError } from '../errors.ts'
import type { CompiledSchema, SchemaCompiler } from './compiled-schema.ts'
import { readConfluentMessageIndexes, readGlueMessageIndex } from './wire-format.ts'

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true }

function messageTypesIn(namespace: protobuf.NamespaceBase): protobuf.Type[] {
  return namespace.nestedArray.filter((nested): nested is protobuf.Type => nested instanceof protobuf.Type)
}

/** The name protoc gives a map field's entry type: `line_items` -> `LineItemsEntry`. */
function mapEntryName(fieldName: string): string {
  return `${fieldName.replace(/(?:^|_)([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase())}Entry`
}

export const compileProtobuf: SchemaCompiler = (definition, schemaId, wire): CompiledSchema => {
  const parsed = protobuf.parse(definition, { keepCase: true })
  for (const file of parsed.imports ?? []) {
    const common = protobuf.common.get(file)
    if (common === null || common.nested === undefined) {
      throw new Error(
        `schema ${schemaId} imports ${file}: only Google's well-known types can be imported (schema references are not supported)`,
      )
    }
    parsed.root.addJSON(common.nested)
  }
  parsed.root.resolveAll()
  const fileScope =
    parsed.package === undefined
      ? parsed.root
      : (parsed.root.lookup(parsed.package) as protobuf.NamespaceBase)
  const topLevel = messageTypesIn(fileScope)
  if (topLevel.length === 0) throw new Error(`schema ${schemaId} declares no message type`)

  const decodeWith = (type: protobuf.Type, payload: Buffer, offset: number, part: string) => {
    try {
      return type.toObject(type.decode(payload.subarray(offset)), TO_OBJECT)
    } catch (error) {
      throw new FormatError(
        'not-protobuf',
        `the ${part} does not decode as Protobuf ${type.fullName.slice(1)} of schema ${schemaId}: ${messageOf(error)}`,
        error,
      )
    }
  }

  if (wire === 'confluent') {
    return {
      decode(payload, part) {
        const { path, next } = readConfluentMessageIndexes(payload, part)
        let candidates = topLevel
        let type: protobuf.Type | undefined
        for (const index of path) {
          type = candidates[index]
          if (type === undefined) {
            throw new FormatError(
              'not-protobuf',
              `the ${part} names message index [${path.join(', ')}], which schema ${schemaId} does not have`,
            )
          }
          candidates = messageTypesIn(type)
        }
        return decodeWith(type!, payload, next, part)
      },
    }
  }

  // Glue: every message type, level by level, then sorted by full name; map entries take a
  // place too (protoc makes them types), though nothing is ever sent as one.
  const all: Array<{ name: string; type: protobuf.Type | undefined }> = []
  const queue = [...topLevel]
  for (let type = queue.shift(); type !== undefined; type = queue.shift()) {
    const name = type.fullName.slice(1)
    all.push({ name, type })
    for (const field of type.fieldsArray) {
      if (field instanceof protobuf.MapField)
        all.push({ name: `${name}.${mapEntryName(field.name)}`, type: undefined })
    }
    queue.push(...messageTypesIn(type))
  }
  all.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0))
  return {
    decode(payload, part) {
      const { index, next } = readGlueMessageIndex(payload, part)
      const type = all[index]?.type
      if (type === undefined) {
        throw new FormatError(
          'not-protobuf',
          `the ${part} names message index ${index}, which is no message type of schema ${schemaId}`,
        )
      }
      return decodeWith(type, payload, next, part)
    },
  }
}
