/**
 * From a fetched record to the message a processor receives, the steps before the processor:
 *
 *   key and value decoded in their formats -> the handler's `filter` -> the handler's `schema`
 *
 * `read` gives the message, or `FILTERED` for one the filter left out, or throws a
 * `MessageDecodeError` naming why the message cannot be read (its dead letter's reason).
 * Anything else it throws (a schema registry that cannot be reached) is not the message's
 * fault: the partition stops before it for this run, and the next run tries it again.
 *
 * Synchronous for every message whose schemas are cached (all of them with the plain formats)
 * and whose schema validates synchronously: no promise per message. `prepare`, called once
 * per fetched batch, fetches the registry schemas the batch needs first.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { messageOf } from '../errors.ts'
import type { FetchedRecord } from '../ports.ts'
import { FormatError, MessageDecodeError, type MessagePosition } from './errors.ts'
import type { KafkaMessage } from './message.ts'
import { messageHeadersOf } from './message-headers.ts'
import { type BytesDecoder, jsonDecoder, keyStringDecoder, type RecordPart } from './value-formats.ts'

/** What `read` returns for a message the filter left out: done with, never processed. */
export const FILTERED: unique symbol = Symbol('filtered')
export type Readout = KafkaMessage<unknown, unknown> | typeof FILTERED

/**
 * Keeps a message (true) or leaves it out (false), as the Lambda trigger's FilterCriteria do.
 * It sees the decoded message before the schema does, so its value is not validated yet.
 */
export type MessageFilter = (message: KafkaMessage<unknown, unknown>) => boolean

export interface MessageReader {
  /** Fetches the schemas these records need that are not cached yet; undefined when none is missing. */
  prepare(records: readonly FetchedRecord[], deadline: number): Promise<void> | undefined
  read(topic: string, partition: number, record: FetchedRecord): Readout | Promise<Readout>
}

export interface MessageReaderOptions {
  /** Default: JSON. */
  readonly value?: BytesDecoder
  /** Default: text (lenient UTF-8). */
  readonly key?: BytesDecoder
  readonly filter?: MessageFilter
  /** Validates (and may transform) every value but tombstones. */
  readonly schema?: StandardSchemaV1
}

/** Most issues a dead letter's error lists; the count says how many more there were. */
const MAX_ISSUES_SHOWN = 5

/** A message under construction: readonly for the processor, written here once. */
interface DraftMessage extends Omit<KafkaMessage<unknown, unknown>, 'key' | 'value'> {
  key: unknown
  value: unknown
}

export function createMessageReader(options: MessageReaderOptions = {}): MessageReader {
  const valueDecoder = options.value ?? jsonDecoder
  const keyDecoder = options.key ?? keyStringDecoder
  const { filter, schema } = options
  const validate = schema?.['~standard'].validate

  // The position is copied only on an error: this runs for every message.
  const decode = (decoder: BytesDecoder, bytes: Buffer, part: RecordPart, position: MessagePosition) => {
    try {
      return decoder.decode(bytes, part)
    } catch (error) {
      if (!(error instanceof FormatError)) throw error
      const kind = part === 'key' ? (`key-${error.kind}` as const) : error.kind
      const { topic, partition, offset } = position
      throw new MessageDecodeError({ topic, partition, offset }, kind, error.message, error)
    }
  }

  const validated = (message: DraftMessage, result: StandardSchemaV1.Result<unknown>): Readout => {
    if (result.issues !== undefined) {
      throw new MessageDecodeError(
        message,
        'schema',
        `the value does not match the schema: ${issuesText(result.issues)}`,
      )
    }
    // The schema's output is the value the processor sees (defaults filled in, transforms applied).
    message.value = result.value
    return message
  }

  return {
    prepare(records, deadline) {
      const value = valueDecoder.prepare?.(records, 'value', deadline)
      const key = keyDecoder.prepare?.(records, 'key', deadline)
      if (value === undefined) return key
      return key === undefined ? value : Promise.all([value, key]).then(() => undefined)
    },

    read(topic, partition, record) {
      const message: DraftMessage = {
        topic,
        partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: null,
        value: null,
        headers: messageHeadersOf(record.headers),
        raw: record,
      }
      if (record.key !== null) message.key = decode(keyDecoder, record.key, 'key', message)
      // A tombstone is null in every format: nothing to decode.
      if (record.value !== null) message.value = decode(valueDecoder, record.value, 'value', message)
      if (filter !== undefined) {
        let keep: boolean
        try {
          keep = filter(message)
        } catch (error) {
          const { offset } = message
          throw new MessageDecodeError(
            { topic, partition, offset },
            'filter-failed',
            `the filter threw: ${messageOf(error)}`,
            error,
          )
        }
        if (!keep) return FILTERED
      }
      if (validate === undefined || message.value === null) return message
      const result = validate(message.value)
      return result instanceof Promise
        ? result.then((settled) => validated(message, settled))
        : validated(message, result)
    },
  }
}

/** `orderId: Expected number, received string; quantity: Required` (at most a few). */
function issuesText(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const path = (issue.path ?? [])
      .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
      .join('.')
    return path === '' ? issue.message : `${path}: ${issue.message}`
  })
  const more = issues.length - shown.length
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '')
}
