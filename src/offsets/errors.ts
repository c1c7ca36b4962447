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
    if (/^Region is missing/i.test(detail)) {
      // The SDK's own words for a client without a region: which setting that is, here.
      return new OffsetStoreError(
        `Could not ${what}: no AWS region is set. ` +
          "In Lambda the runtime sets it; locally set AWS_REGION to the table's region, or DYNAMODB_ENDPOINT for a local table.",
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

/** Items of another consumer found under this one's `consumer_id`. */
export interface ForeignItem {
  readonly partition: number
  readonly topic: string | undefined
  readonly groupId: string | undefined
}

/**
 * `consumer_id` is `{group_id}_{topic}`, so two consumers whose group and topic split at a
 * different "_" (group `a_b` with topic `c`, group `a` with topic `b_c`) get the same one, and
 * would share their offsets and their lease without a word. Items say whose they are (their
 * `topic` and `group_id` attributes): a run that finds another consumer's refuses to start.
 */
export class ConsumerIdCollisionError extends LambdaKafkaConsumerError {
  readonly consumerId: string
  readonly table: string
  readonly foreign: readonly ForeignItem[]

  constructor(
    consumerId: string,
    table: string,
    own: { readonly topic: string; readonly groupId: string },
    foreign: readonly ForeignItem[],
  ) {
    const first = foreign[0]
    const whose =
      first === undefined
        ? 'another consumer'
        : `topic "${first.topic ?? '?'}", group_id "${first.groupId ?? '?'}"`
    const partitions = foreign.map((item) => item.partition).join(', ')
    super(
      `The offsets under consumer_id "${consumerId}" in table "${table}" belong to another consumer: ` +
        `partition(s) ${partitions} were written for ${whose}, and this consumer is topic "${own.topic}", ` +
        `group_id "${own.groupId}". A consumer_id is "{group_id}_{topic}", so these two consumers share it, and ` +
        'with it their offsets and their run lease. Nothing was consumed or written. Give one of them another ' +
        'KAFKA_GROUP_ID (a group id without "_" cannot collide this way); if both have run before, check the ' +
        'stored offsets of both with `lkc status` and move them with `lkc reset`.',
      { retriable: false },
    )
    this.consumerId = consumerId
    this.table = table
    this.foreign = foreign
  }
}
