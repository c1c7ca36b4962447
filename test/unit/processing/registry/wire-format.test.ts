import { describe, expect, it } from 'vitest'
import { FormatError } from '../../../../src/processing/errors.ts'
import {
  readConfluentMessageIndexes,
  readGlueMessageIndex,
  schemaIdOf,
  unframe,
} from '../../../../src/processing/registry/wire-format.ts'
import { confluentFramed, glueFramed, glueProtobufPayload } from '../../../support/schema-registry.ts'

const versionId = '0c71b020-fbbd-44f6-ae3d-3e02d4bea8c7'
const payload = Buffer.from([0x02, 0x0e, 0x41])

function formatError(read: () => unknown): FormatError {
  try {
    read()
  } catch (error) {
    if (error instanceof FormatError) return error
    throw error
  }
  throw new Error('expected a FormatError')
}

describe('the Confluent wire format', () => {
  it('reads the schema id (big-endian) and the payload after it', () => {
    const bytes = confluentFramed(258, payload)

    expect(schemaIdOf(bytes, 'confluent')).toBe('258')
    expect(unframe(bytes, 'confluent', 'avro', 'value')).toEqual({ schemaId: '258', payload })
  })

  it('rejects bytes without the magic byte, naming the format, what was found, and a Glue look-alike', () => {
    const plain = formatError(() => unframe(Buffer.from('{"id":1}'), 'confluent', 'avro', 'value'))
    expect(plain.kind).toBe('not-avro')
    expect(plain.message).toBe(
      'the value is not avro in the Confluent wire format (magic byte 0 and a 4-byte schema id): its first byte is 0x7b, 8 byte(s)',
    )

    const glue = formatError(() => unframe(glueFramed(versionId, payload), 'confluent', 'protobuf', 'key'))
    expect(glue.kind).toBe('not-protobuf')
    expect(glue.message).toContain('the key is not protobuf')
    expect(glue.message).toContain('set SCHEMA_REGISTRY=glue')

    expect(
      formatError(() => unframe(Buffer.alloc(0), 'confluent', 'json-schema', 'value')).message,
    ).toContain('it is empty (0 bytes)')
    expect(schemaIdOf(Buffer.from([0, 0, 1]), 'confluent')).toBeUndefined()
  })

  it('reads Protobuf message indexes: the single 0, and a nested path', () => {
    const first = confluentFramed(1, payload, [0]).subarray(5)
    expect(readConfluentMessageIndexes(first, 'value')).toEqual({ path: [0], next: 1 })

    const nested = confluentFramed(1, payload, [1, 0, 2]).subarray(5)
    const read = readConfluentMessageIndexes(nested, 'value')
    expect(read.path).toEqual([1, 0, 2])
    expect(nested.subarray(read.next)).toEqual(payload)

    expect(formatError(() => readConfluentMessageIndexes(Buffer.from([0x04, 0x02]), 'key')).message).toBe(
      'the key has a broken Confluent message-index list after the schema id',
    )
  })
})

describe('the AWS Glue wire format', () => {
  it('reads the schema version UUID and the payload, uncompressed', () => {
    const bytes = glueFramed(versionId, payload)

    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([3, 0]))
    expect(schemaIdOf(bytes, 'glue')).toBe(versionId)
    expect(unframe(bytes, 'glue', 'avro', 'value')).toEqual({ schemaId: versionId, payload })
  })

  it('inflates a zlib-compressed payload (byte 1 = 5)', () => {
    const large = Buffer.alloc(4096, 'order ')
    const bytes = glueFramed(versionId, large, { zlib: true })

    expect(bytes[1]).toBe(5)
    expect(bytes.length).toBeLessThan(large.length)
    expect(unframe(bytes, 'glue', 'json-schema', 'value').payload).toEqual(large)
  })

  it('rejects an unknown compression, a payload that does not inflate, and Confluent framing', () => {
    const lz4 = glueFramed(versionId, payload)
    lz4[1] = 4
    expect(formatError(() => unframe(lz4, 'glue', 'avro', 'value')).message).toBe(
      'the value names an unknown AWS Glue compression 0x04 (byte 1): 0 (none) and 5 (zlib) are known',
    )

    const broken = glueFramed(versionId, payload)
    broken[1] = 5
    expect(formatError(() => unframe(broken, 'glue', 'avro', 'value')).message).toContain('does not inflate')

    const confluent = formatError(() => unframe(confluentFramed(7, payload), 'glue', 'avro', 'value'))
    expect(confluent.message).toContain('it looks like Confluent framing')
  })

  it('reads the Protobuf message index (an unsigned varint)', () => {
    const body = glueProtobufPayload(300, payload)

    expect(readGlueMessageIndex(body, 'value')).toEqual({ index: 300, next: 2 })
  })
})
