/**
 * The two schema-registry wire formats: where the schema id is, and where the payload starts.
 *
 *   Confluent-compatible: byte 0 = 0 (magic), bytes 1-4 = the schema id (big-endian), then for
 *     Protobuf the message indexes (a zig-zag varint count, then that many zig-zag varints;
 *     a single 0 stands for [0]), then the payload.
 *   AWS Glue Schema Registry: byte 0 = 3 (header version), byte 1 = compression (0 none,
 *     5 zlib), bytes 2-17 = the schema version UUID, then the payload (zlib-compressed when
 *     byte 1 is 5); for Protobuf the payload starts with one unsigned varint, the message index.
 *
 * Pure: bytes in, positions and numbers out. Errors are `FormatError`s of the format's kind
 * and name what was found, so a dead letter says why.
 */
import { inflateSync } from 'node:zlib'
import { FormatError } from '../errors.ts'
import type { RecordPart, RegistryFormat } from '../value-formats.ts'

export type WireFormat = 'confluent' | 'glue'

const CONFLUENT_MAGIC = 0
const CONFLUENT_HEADER_BYTES = 5
const GLUE_HEADER_VERSION = 3
const GLUE_COMPRESSION_NONE = 0
const GLUE_COMPRESSION_ZLIB = 5
const GLUE_HEADER_BYTES = 18

export interface Framed {
  /** The schema id as the registry names it: a decimal number (Confluent), a UUID (Glue). */
  readonly schemaId: string
  /** What follows the header, decompressed (Protobuf message indexes still at its start). */
  readonly payload: Buffer
}

export function formatErrorKind(format: RegistryFormat) {
  return format === 'avro' ? 'not-avro' : format === 'protobuf' ? 'not-protobuf' : 'not-json-schema'
}

/** The schema id only, without decompressing: what `prepare` needs to know which schemas to fetch. */
export function schemaIdOf(bytes: Buffer, wire: WireFormat): string | undefined {
  if (wire === 'confluent') {
    return bytes.length >= CONFLUENT_HEADER_BYTES && bytes[0] === CONFLUENT_MAGIC
      ? String(bytes.readUInt32BE(1))
      : undefined
  }
  return bytes.length >= GLUE_HEADER_BYTES && bytes[0] === GLUE_HEADER_VERSION ? uuidOf(bytes) : undefined
}

export function unframe(bytes: Buffer, wire: WireFormat, format: RegistryFormat, part: RecordPart): Framed {
  const kind = formatErrorKind(format)
  const first = bytes.length === 0 ? 'it is empty (0 bytes)' : `its first byte is ${hex(bytes[0]!)}`
  if (wire === 'confluent') {
    if (bytes.length < CONFLUENT_HEADER_BYTES || bytes[0] !== CONFLUENT_MAGIC) {
      const glue =
        bytes[0] === GLUE_HEADER_VERSION ? '; it looks like AWS Glue framing: set SCHEMA_REGISTRY=glue' : ''
      throw new FormatError(
        kind,
        `the ${part} is not ${format} in the Confluent wire format (magic byte 0 and a 4-byte schema id): ${first}, ${bytes.length} byte(s)${glue}`,
      )
    }
    return { schemaId: String(bytes.readUInt32BE(1)), payload: bytes.subarray(CONFLUENT_HEADER_BYTES) }
  }
  if (bytes.length < GLUE_HEADER_BYTES || bytes[0] !== GLUE_HEADER_VERSION) {
    const confluent =
      bytes[0] === CONFLUENT_MAGIC && bytes.length >= CONFLUENT_HEADER_BYTES
        ? '; it looks like Confluent framing: set SCHEMA_REGISTRY=confluent and SCHEMA_REGISTRY_URL'
        : ''
    throw new FormatError(
      kind,
      `the ${part} is not ${format} in the AWS Glue wire format (header byte 3, a compression byte and an 16-byte schema version id): ${first}, ${bytes.length} byte(s)${confluent}`,
    )
  }
  const schemaId = uuidOf(bytes)
  const compression = bytes[1]
  const rest = bytes.subarray(GLUE_HEADER_BYTES)
  if (compression === GLUE_COMPRESSION_NONE) return { schemaId, payload: rest }
  if (compression === GLUE_COMPRESSION_ZLIB) {
    try {
      return { schemaId, payload: inflateSync(rest) }
    } catch (error) {
      throw new FormatError(
        kind,
        `the ${part} says it is zlib-compressed (byte 1 = 5) but does not inflate`,
        error,
      )
    }
  }
  throw new FormatError(
    kind,
    `the ${part} names an unknown AWS Glue compression ${hex(compression!)} (byte 1): 0 (none) and 5 (zlib) are known`,
  )
}

/** Bytes 2-17 as the UUID Glue names schema versions by (`8-4-4-4-12` lowercase hex). */
function uuidOf(bytes: Buffer): string {
  const hexText = bytes.toString('hex', 2, GLUE_HEADER_BYTES)
  return `${hexText.slice(0, 8)}-${hexText.slice(8, 12)}-${hexText.slice(12, 16)}-${hexText.slice(16, 20)}-${hexText.slice(20)}`
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`
}

/** A varint read from `bytes` at `offset`: its value and the offset after it. */
export interface Varint {
  readonly value: number
  readonly next: number
}

/** An unsigned LEB128 varint of at most 32 bits. */
export function readUnsignedVarint(bytes: Buffer, offset: number): Varint | undefined {
  let value = 0
  for (let shift = 0, index = offset; shift < 35; shift += 7, index++) {
    const byte = bytes[index]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return value > 0xffffffff ? undefined : { value, next: index + 1 }
  }
  return undefined
}

/** A zig-zag varint, as Confluent writes message indexes. */
export function readZigZagVarint(bytes: Buffer, offset: number): Varint | undefined {
  const raw = readUnsignedVarint(bytes, offset)
  if (raw === undefined) return undefined
  const value = raw.value % 2 === 0 ? raw.value / 2 : -(raw.value + 1) / 2
  return { value, next: raw.next }
}

/** Most nesting a message index path may have; a longer one is not a header but garbage. */
const MAX_INDEX_DEPTH = 100

/**
 * The Confluent Protobuf message indexes at the start of `payload`: the path of the message
 * type in its schema (top-level message, then nested), and where the message's bytes start.
 */
export function readConfluentMessageIndexes(
  payload: Buffer,
  part: RecordPart,
): { path: number[]; next: number } {
  const count = readZigZagVarint(payload, 0)
  if (count === undefined || count.value < 0 || count.value > MAX_INDEX_DEPTH) {
    throw new FormatError(
      'not-protobuf',
      `the ${part} has no valid Confluent message-index list after the schema id`,
    )
  }
  // A single 0 is the usual case: the first message type of the schema.
  if (count.value === 0) return { path: [0], next: count.next }
  const path: number[] = []
  let next = count.next
  for (let index = 0; index < count.value; index++) {
    const entry = readZigZagVarint(payload, next)
    if (entry === undefined || entry.value < 0) {
      throw new FormatError(
        'not-protobuf',
        `the ${part} has a broken Confluent message-index list after the schema id`,
      )
    }
    path.push(entry.value)
    next = entry.next
  }
  return { path, next }
}

/** The AWS Glue Protobuf message index at the start of `payload` (one unsigned varint). */
export function readGlueMessageIndex(payload: Buffer, part: RecordPart): { index: number; next: number } {
  const entry = readUnsignedVarint(payload, 0)
  if (entry === undefined) {
    throw new FormatError(
      'not-protobuf',
      `the ${part} has no valid AWS Glue message index before the Protobuf payload`,
    )
  }
  return { index: entry.value, next: entry.next }
}
