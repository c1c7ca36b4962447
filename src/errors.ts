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

/** The message of an unknown thrown value, for logs and wrapped errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
