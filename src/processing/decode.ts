/**
 * Decoding, as the seed does it: the value as UTF-8, then JSON. Strict: bytes that are not
 * UTF-8 are an error, not replacement characters, so nothing is processed in a mangled form.
 *
 * This runs once per message, so it allocates only what the message is made of: the parsed
 * value, the key's text and the message object (no headers object when there are none, the
 * record itself as `raw`, the error context only on an error).
 */
import { isUtf8 } from 'node:buffer'
import { messageOf } from '../errors.ts'
import type { FetchedRecord } from '../ports.ts'
import { MessageDecodeError } from './errors.ts'
import type { KafkaMessage } from './message.ts'

/** Shared by every message without headers; frozen, as `KafkaMessage.headers` is read-only. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * The parser's reason, without the piece of the value that V8 quotes in some of its messages
 * (`Unexpected token 'o', "oops" is not valid JSON`): the reason is logged at ERROR, where
 * message content never goes.
 */
function jsonReason(error: unknown): string {
  const message = messageOf(error)
  return /is not valid JSON$/.test(message) ? 'unexpected token; the content is not shown' : message
}

export function decodeMessage(topic: string, partition: number, record: FetchedRecord): KafkaMessage {
  const bytes = record.value
  const value = bytes === null ? null : parseValue(topic, partition, record.offset, bytes)
  return {
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : record.key.toString('utf8'),
    value,
    headers: record.headers.length === 0 ? NO_HEADERS : headersOf(record.headers),
    raw: record,
  }
}

function parseValue(topic: string, partition: number, offset: number, bytes: Buffer): unknown {
  if (bytes.length === 0) {
    throw new MessageDecodeError(
      { topic, partition, offset },
      'empty-value',
      'the value is empty (0 bytes), not JSON',
    )
  }
  // Validated first (simdutf, in C++), then decoded: faster than a fatal TextDecoder, as strict.
  if (!isUtf8(bytes)) {
    throw new MessageDecodeError({ topic, partition, offset }, 'not-utf8', 'the value is not valid UTF-8')
  }
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new MessageDecodeError(
      { topic, partition, offset },
      'not-json',
      `the value is not JSON (${jsonReason(error)})`,
      error,
    )
  }
}

function headersOf(list: FetchedRecord['headers']): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [headerKey, headerValue] of list) {
    if (headerKey !== null)
      headers[headerKey.toString('utf8')] = headerValue === null ? '' : headerValue.toString('utf8')
  }
  return headers
}
