import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'

/** The offsets table could not be read or written. Nothing is lost: the next run starts from what is stored. */
export class OffsetStoreError extends LambdaKafkaConsumerError {
  constructor(message: string, cause?: unknown, retriable = false) {
    super(message, { cause, retriable })
  }

  /** Turns an AWS SDK error into one that names the table and the fix. */
  static from(what: string, table: string, error: unknown): OffsetStoreError {
    const name = error instanceof Error ? error.name : ''
    const detail = messageOf(error)
    if (name === 'ResourceNotFoundException') {
      return new OffsetStoreError(
        `Could not ${what}: DynamoDB table "${table}" does not exist here. ` +
          "Deploy the stack (which creates it), create it with the seed's key schema, or set DYNAMODB_TABLE.",
        error,
      )
    }
    if (name === 'CredentialsProviderError' || /credential/i.test(detail)) {
      return new OffsetStoreError(
        `Could not ${what}: no AWS credentials (${detail}). ` +
          'In Lambda the function role provides them; locally set AWS_PROFILE or AWS_ACCESS_KEY_ID, or DYNAMODB_ENDPOINT for a local table.',
        error,
      )
    }
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
      return new OffsetStoreError(
        `Could not ${what} in table "${table}": access denied (${detail}). ` +
          'Grant the role dynamodb:Query and dynamodb:PutItem on the table.',
        error,
      )
    }
    const retriable =
      /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable/.test(
        name,
      ) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|timeout/i.test(detail)
    return new OffsetStoreError(
      `Could not ${what} in DynamoDB table "${table}": ${detail}. ` +
        'Nothing was lost: the next run starts again from the stored offsets.',
      error,
      retriable,
    )
  }
}
