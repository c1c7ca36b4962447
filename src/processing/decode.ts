/**
 * Decoding, as the seed does it: the value as UTF-8, then JSON. Strict: bytes that are not
 * UTF-8 are an error, not replacement characters, so nothing is processed in a mangled form.
 */
import type { FetchedRecord } from '../cycle/ports.ts'
import { messageOf } from '../errors.ts'
import { MessageDecodeError } from './errors.ts'
import type { KafkaMessage } from './message.ts'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function textOf(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString('utf8')
}

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
  const position = { topic, partition, offset: record.offset }
  let value: unknown = null
  if (record.value !== null) {
    if (record.value.length === 0)
      throw new MessageDecodeError(position, 'empty-value', 'the value is empty (0 bytes), not JSON')
    let text: string
    try {
      text = strictUtf8.decode(record.value)
    } catch (error) {
      throw new MessageDecodeError(position, 'not-utf8', 'the value is not valid UTF-8', error)
    }
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new MessageDecodeError(
        position,
        'not-json',
        `the value is not JSON (${jsonReason(error)})`,
        error,
      )
    }
  }
  const headers: Record<string, string> = {}
  for (const [headerKey, headerValue] of record.headers) {
    if (headerKey !== null) headers[headerKey.toString('utf8')] = textOf(headerValue) ?? ''
  }
  return {
    topic,
    partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: textOf(record.key),
    value,
    headers,
    raw: { key: record.key, value: record.value, headers: record.headers },
  }
}
