/**
 * The formats a value (VALUE_FORMAT) or a key (KEY_FORMAT) can be in, and the decoders of the
 * three that need nothing but the bytes: `json`, `string` and `bytes`. The registry formats
 * (`avro`, `protobuf`, `json-schema`) live in `registry/` and are imported only when
 * configured, so the default JSON path loads no Avro, Protobuf or AWS Glue code.
 *
 * A decoder is strict: bytes that are not what the format says are an error (a `FormatError`
 * naming the format and the problem), never a mangled value, so nothing is processed in a
 * form its producer did not mean. A tombstone (no value) never reaches a decoder.
 */
import { isUtf8 } from 'node:buffer'
import { messageOf } from '../errors.ts'
import type { FetchedRecord } from '../ports.ts'
import { FormatError } from './errors.ts'

export const VALUE_FORMATS = ['json', 'string', 'bytes', 'avro', 'protobuf', 'json-schema'] as const
export const KEY_FORMATS = ['string', 'bytes', 'json', 'avro', 'protobuf'] as const
export type ValueFormat = (typeof VALUE_FORMATS)[number]
export type KeyFormat = (typeof KEY_FORMATS)[number]
export type RegistryFormat = 'avro' | 'protobuf' | 'json-schema'

export function isRegistryFormat(format: ValueFormat | KeyFormat): format is RegistryFormat {
  return format === 'avro' || format === 'protobuf' || format === 'json-schema'
}

/** Which part of a record a decoder reads: its error reasons name it ("the value is not JSON"). */
export type RecordPart = 'value' | 'key'

/** Decodes the bytes of one part of a record. Throws a `FormatError` when they are not in its format. */
export interface BytesDecoder {
  readonly format: ValueFormat | KeyFormat
  /**
   * Registry formats: fetches, before `decode` runs on these records, the schemas they name
   * that are not cached yet, each call bounded by `deadline` (clock time, ms). Undefined when
   * there is nothing to fetch, which is always the case for the plain formats.
   */
  prepare?(records: readonly FetchedRecord[], part: RecordPart, deadline: number): Promise<void> | undefined
  decode(bytes: Buffer, part: RecordPart): unknown
}

/**
 * The parser's reason, without the piece of the value that V8 quotes in some of its messages
 * (`Unexpected token 'o', "oops" is not valid JSON`): the reason is logged at ERROR, where
 * message content never goes.
 */
export function jsonReason(error: unknown): string {
  const message = messageOf(error)
  return /is not valid JSON$/.test(message) ? 'unexpected token; the content is not shown' : message
}

/**
 * The bytes as text, strictly: undefined when they are not UTF-8. Node's decoder turns every
 * invalid sequence into U+FFFD, so text without one came from valid UTF-8, and only text with
 * one (rare: the bytes may hold a real U+FFFD) is checked again (simdutf, in C++). Looking for
 * it costs next to nothing (nothing at all in a one-byte string, as ASCII JSON decodes to),
 * where checking every value first cost a few percent of a drain (bench/README.md).
 */
function utf8Text(bytes: Buffer): string | undefined {
  // UTF-8 is the default: without arguments, Buffer#toString skips looking up the encoding.
  const text = bytes.toString()
  return text.includes('\uFFFD') && !isUtf8(bytes) ? undefined : text
}

/** UTF-8 JSON, as the seed decodes values: as strict as a fatal TextDecoder, faster. */
export const jsonDecoder: BytesDecoder = {
  format: 'json',
  decode(bytes, part) {
    if (bytes.length === 0) throw new FormatError('empty-value', `the ${part} is empty (0 bytes), not JSON`)
    const text = utf8Text(bytes)
    if (text === undefined) throw new FormatError('not-utf8', `the ${part} is not valid UTF-8, so not JSON`)
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new FormatError('not-json', `the ${part} is not JSON (${jsonReason(error)})`, error)
    }
  },
}

/** UTF-8 text, strictly: bytes that are not UTF-8 are an error, not replacement characters. */
export const stringDecoder: BytesDecoder = {
  format: 'string',
  decode(bytes, part) {
    const text = utf8Text(bytes)
    if (text === undefined) {
      throw new FormatError(
        'not-utf8',
        `the ${part} is not valid UTF-8 text (VALUE_FORMAT=string); use bytes for binary data`,
      )
    }
    return text
  },
}

/**
 * Keys as text, as they always were: leniently, a byte that is not UTF-8 becomes U+FFFD. A
 * key only routes a message to its partition; KEY_FORMAT=bytes gives the exact bytes.
 */
export const keyStringDecoder: BytesDecoder = {
  format: 'string',
  decode: (bytes) => bytes.toString(),
}

/** The bytes as they came: the same Buffer as `raw`. */
export const bytesDecoder: BytesDecoder = {
  format: 'bytes',
  decode: (bytes) => bytes,
}

/** The decoder of a plain format; undefined for a registry format (see `registry/`). */
export function plainDecoder(format: ValueFormat | KeyFormat, part: RecordPart): BytesDecoder | undefined {
  switch (format) {
    case 'json':
      return jsonDecoder
    case 'string':
      return part === 'key' ? keyStringDecoder : stringDecoder
    case 'bytes':
      return bytesDecoder
    default:
      return undefined
  }
}
