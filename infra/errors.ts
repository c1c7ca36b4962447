import { LambdaKafkaConsumerError } from '../src/errors.ts'

/**
 * A prop of the CDK construct (or a context key of the app) has a value that cannot be deployed.
 * Raised at synthesis, before anything reaches AWS; the message names the prop, the value and
 * what is allowed.
 */
export class InvalidConstructPropError extends LambdaKafkaConsumerError {
  readonly prop: string
  readonly value: unknown

  constructor(prop: string, value: unknown, expected: string) {
    super(`Invalid ${prop}: ${JSON.stringify(value) ?? String(value)}. Expected ${expected}.`)
    this.prop = prop
    this.value = value
  }
}
