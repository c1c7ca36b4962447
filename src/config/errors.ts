import { LambdaKafkaConsumerError } from '../errors.ts'

export interface ConfigProblem {
  /** The environment variable, e.g. `MAX_MESSAGES`. */
  key: string
  /** What was seen; `undefined` when the variable is missing. Secret values are redacted. */
  value: string | undefined
  /** What is allowed, in words a user can act on. */
  expected: string
}

/** One or more configuration values are missing or invalid; nothing was consumed or written. */
export class ConfigError extends LambdaKafkaConsumerError {
  readonly problems: readonly ConfigProblem[]

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map(({ key, value, expected }) =>
      value === undefined
        ? `  ${key} is not set: ${expected}`
        : `  ${key}=${JSON.stringify(value)}: ${expected}`,
    )
    super(`Invalid configuration (nothing was consumed):\n${lines.join('\n')}`)
    this.problems = problems
  }
}
