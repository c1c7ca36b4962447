/**
 * A value or key format that goes through a schema registry (Avro, Protobuf, JSON Schema):
 * each message names its schema by id in its wire-format header; the schema is fetched once,
 * compiled, and kept for the life of the function, so warm invocations fetch nothing.
 *
 * `prepare` (once per fetched batch, before any message of it is read) fetches the ids the
 * batch names that are not cached yet, in parallel, each call bounded by the registry timeout
 * and the invocation's deadline; the same id asked by two partitions at once is fetched once.
 * `decode` is then synchronous. Its outcomes for a message:
 *   - its schema is cached: decoded, or a `FormatError` (not this format, does not fit);
 *   - the registry has no such schema, or it is not a schema of this format: a `FormatError`
 *     (`unknown-schema`, or the format's kind): the message is dead-lettered;
 *   - the registry could not say (down, slow, refused): that error, not a `FormatError`: the
 *     partition stops before the message for this run, and the next run asks again.
 */

import { messageOf } from '../../errors.ts'
import type { FetchedRecord } from '../../ports.ts'
import { FormatError } from '../errors.ts'
import type { BytesDecoder, RecordPart, RegistryFormat } from '../value-formats.ts'
import type { CompiledSchema, SchemaCompiler } from './compiled-schema.ts'
import { SchemaNotFoundError, SchemaRegistryUnavailableError } from './errors.ts'
import type { SchemaSource } from './schema-source.ts'
import { formatErrorKind, schemaIdOf, unframe } from './wire-format.ts'

export interface RegistryDecoderOptions {
  readonly format: RegistryFormat
  readonly source: SchemaSource
  readonly compile: SchemaCompiler
  /** Longest one registry call may take (SCHEMA_REGISTRY_TIMEOUT_MS), deadline permitting. */
  readonly timeoutMs: number
  readonly clock?: () => number
}

const LANGUAGE_NAMES = { avro: 'an Avro', protobuf: 'a Protobuf', 'json-schema': 'a JSON Schema' } as const

export class RegistryDecoder implements BytesDecoder {
  readonly format: RegistryFormat
  readonly #source: SchemaSource
  readonly #compile: SchemaCompiler
  readonly #timeoutMs: number
  readonly #clock: () => number
  /** Schemas by id, compiled; or the permanent reason one cannot be used (not this format, does not compile). */
  readonly #schemas = new Map<string, CompiledSchema>()
  /** The latest fetch of an id that failed: what a message naming it gets until a fetch succeeds. */
  readonly #failures = new Map<string, unknown>()
  readonly #inFlight = new Map<string, Promise<void>>()

  constructor(options: RegistryDecoderOptions) {
    this.format = options.format
    this.#source = options.source
    this.#compile = options.compile
    this.#timeoutMs = options.timeoutMs
    this.#clock = options.clock ?? Date.now
  }

  prepare(records: readonly FetchedRecord[], part: RecordPart, deadline: number): Promise<void> | undefined {
    let missing: Set<string> | undefined
    for (const record of records) {
      const bytes = part === 'value' ? record.value : record.key
      if (bytes === null) continue
      const id = schemaIdOf(bytes, this.#source.wireFormat)
      if (id === undefined || this.#schemas.has(id)) continue
      missing ??= new Set()
      missing.add(id)
    }
    if (missing === undefined) return undefined
    return Promise.all([...missing].map((id) => this.#fetchOnce(id, deadline))).then(() => undefined)
  }

  decode(bytes: Buffer, part: RecordPart): unknown {
    const { schemaId, payload } = unframe(bytes, this.#source.wireFormat, this.format, part)
    const schema = this.#schemas.get(schemaId)
    if (schema !== undefined) return schema.decode(payload, part)
    const failure = this.#failures.get(schemaId)
    if (failure instanceof SchemaNotFoundError) {
      throw new FormatError(
        'unknown-schema',
        `the ${part} names schema ${schemaId}, which ${this.#source.name} does not have (deleted, or written with another registry?)`,
        failure,
      )
    }
    throw (
      failure ??
      new SchemaRegistryUnavailableError(
        this.#source.name,
        schemaId,
        'it was not fetched before the message was read',
      )
    )
  }

  #fetchOnce(id: string, deadline: number): Promise<void> {
    const pending = this.#inFlight.get(id)
    if (pending !== undefined) return pending
    const fetching = this.#fetch(id, deadline).finally(() => this.#inFlight.delete(id))
    this.#inFlight.set(id, fetching)
    return fetching
  }

  /** Never throws: the outcome is left in `#schemas` or `#failures` for `decode` to find. */
  async #fetch(id: string, deadline: number): Promise<void> {
    const remainingMs = deadline - this.#clock()
    if (remainingMs <= 0) {
      this.#failures.set(
        id,
        new SchemaRegistryUnavailableError(this.#source.name, id, 'no time left in this invocation'),
      )
      return
    }
    const waitMs = Math.min(this.#timeoutMs, remainingMs)
    const signal = AbortSignal.timeout(waitMs)
    try {
      const schema = await this.#source.fetch(id, signal)
      this.#schemas.set(id, this.#compiled(id, schema.language, schema.definition))
      this.#failures.delete(id)
    } catch (error) {
      this.#failures.set(
        id,
        signal.aborted && !(error instanceof SchemaNotFoundError)
          ? new SchemaRegistryUnavailableError(this.#source.name, id, `no answer within ${waitMs} ms`, error)
          : error,
      )
    }
  }

  /** A schema of another language, or one that does not compile, fails every message naming it, for good. */
  #compiled(id: string, language: keyof typeof LANGUAGE_NAMES, definition: string): CompiledSchema {
    const kind = formatErrorKind(this.format)
    const failing = (reason: string, cause?: unknown): CompiledSchema => ({
      decode: (_payload, part) => {
        throw new FormatError(kind, `the ${part} names schema ${id}, ${reason}`, cause)
      },
    })
    if (language !== this.format) {
      return failing(`${LANGUAGE_NAMES[language]} schema; the format configured is ${this.format}`)
    }
    try {
      return this.#compile(definition, id, this.#source.wireFormat)
    } catch (error) {
      return failing(
        `which is not ${LANGUAGE_NAMES[language]} schema this consumer can use: ${messageOf(error)}`,
        error,
      )
    }
  }
}
