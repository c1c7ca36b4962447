/**
 * A message's headers as a processor reads them: in the order the producer wrote them, a
 * repeated key kept as often as it was written, and any key at all (`__proto__` included:
 * nothing here is a plain object keyed by header names).
 *
 *   message.headers.get('trace-id')     // the last value of the key, as Kafka's lastHeader()
 *   message.headers.getAll('hop')       // every value of the key, in order
 *   for (const [key, value] of message.headers) ...
 *
 * Values are UTF-8 text; a header written without a value reads as ''. The bytes are in
 * `message.raw.headers`. Decoded lazily, when a header is asked for: most processors read
 * one or two headers, or none, and a message costs no header strings then.
 */
type RawHeaders = ReadonlyArray<readonly [Buffer | null, Buffer | null]>

export interface MessageHeaders extends Iterable<readonly [string, string]> {
  /** How many headers the message has, repeated keys counted each time. */
  readonly size: number
  /** The last value written under `key` (Kafka's `lastHeader`), `undefined` when there is none. */
  get(key: string): string | undefined
  /** Every value written under `key`, in order; empty when there is none. */
  getAll(key: string): string[]
  has(key: string): boolean
  /** Every header as `[key, value]`, in order. */
  entries(): Array<readonly [string, string]>
  /**
   * For logs and `JSON.stringify`: an object of the keys, a repeated key's values as an array.
   * Its prototype is null, so a `__proto__` header is an ordinary entry.
   */
  toJSON(): Record<string, string | string[]>
}

class KafkaMessageHeaders implements MessageHeaders {
  readonly #raw: RawHeaders
  #decoded: Array<readonly [string, string]> | undefined

  constructor(raw: RawHeaders) {
    this.#raw = raw
  }

  get size(): number {
    return this.entries().length
  }

  get(key: string): string | undefined {
    const entries = this.entries()
    for (let index = entries.length - 1; index >= 0; index--) {
      const entry = entries[index]!
      if (entry[0] === key) return entry[1]
    }
    return undefined
  }

  getAll(key: string): string[] {
    const values: string[] = []
    for (const [name, value] of this.entries()) if (name === key) values.push(value)
    return values
  }

  has(key: string): boolean {
    return this.entries().some(([name]) => name === key)
  }

  entries(): Array<readonly [string, string]> {
    if (this.#decoded === undefined) {
      const decoded: Array<readonly [string, string]> = []
      // Kafka never writes a header without a key; a null one cannot be asked for, so it is left out.
      for (const [key, value] of this.#raw) {
        if (key !== null) decoded.push([key.toString('utf8'), value === null ? '' : value.toString('utf8')])
      }
      this.#decoded = decoded
    }
    return this.#decoded
  }

  [Symbol.iterator](): Iterator<readonly [string, string]> {
    return this.entries()[Symbol.iterator]()
  }

  toJSON(): Record<string, string | string[]> {
    const object: Record<string, string | string[]> = Object.create(null)
    for (const [key, value] of this.entries()) {
      const seen = Object.hasOwn(object, key) ? object[key] : undefined
      object[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
    }
    return object
  }
}

/** Shared by every message without headers. */
export const NO_HEADERS: MessageHeaders = Object.freeze(new KafkaMessageHeaders([]))

export function messageHeadersOf(raw: RawHeaders): MessageHeaders {
  return raw.length === 0 ? NO_HEADERS : new KafkaMessageHeaders(raw)
}
