/**
 * The project's error base class. Every error raised on purpose is a subclass of
 * `LambdaKafkaConsumerError`: it says what was wrong, the value seen and what to do,
 * carries its context as fields, tells whether retrying may help, and keeps its cause.
 */
export interface ErrorDetails {
  /** The error that led to this one, kept for logs and debuggers. */
  cause?: unknown
  /** True when the same call may succeed if tried again (a network blip, a busy broker). */
  retriable?: boolean
}

export class LambdaKafkaConsumerError extends Error {
  readonly retriable: boolean

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    this.retriable = details.retriable ?? false
  }
}

/**
 * The message of an unknown thrown value, for logs, wrapped errors and dead letters. Never
 * throws: a processor may throw anything, and this runs inside the catch that must then retry
 * or dead-letter the message. `String(value)` throws for an object without a prototype
 * (`Object.create(null)`) or with a throwing `toString`, so objects are described as JSON.
 */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message)
    if (typeof error === 'object' && error !== null) {
      const message: unknown = Reflect.get(error, 'message')
      if (typeof message === 'string') return message
      return JSON.stringify(error) ?? Object.prototype.toString.call(error)
    }
    return String(error)
  } catch {
    return `an unprintable thrown value (${typeof error})`
  }
}
