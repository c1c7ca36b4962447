/**
 * Dead letters to an SQS queue (the default destination in AWS; the CDK stack creates the
 * queue and passes DEAD_LETTER_QUEUE_URL). One SendMessage per letter; the body is the
 * letter's JSON document (README, "Dead letters"), with a few message attributes to filter on.
 *
 * Size: SQS takes at most 1 MiB per message (body and attributes), and less when the queue's
 * MaximumMessageSize is lower (256 KiB on queues created before that limit was raised). A letter
 * over the hard limit is refused here without a call; one over the queue's own limit is refused
 * by SQS. Both become `DeadLetterTooLargeError`, so a routing sink can send the letter to the
 * Kafka topic instead, whole.
 */
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { messageOf } from '../errors.ts'
import { type DeadLetter, type DeadLetterSink, documentOf, serializeDocument } from './dead-letter.ts'
import { DeadLetterTooLargeError, DeadLetterWriteError } from './errors.ts'

/** SQS's largest message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576
/** The longest one attempt of a SendMessage may take (a 1 MiB body included). */
export const SQS_ATTEMPT_TIMEOUT_MS = 3000
/**
 * The longest a dead letter to SQS may take, the SDK's retries included: an SQS that never
 * answers stops the partition after this long instead of hanging the run.
 */
export const SQS_SEND_TIMEOUT_MS = 5000

export class SqsDeadLetterSink implements DeadLetterSink {
  readonly destination: string
  readonly #client: SQSClient
  readonly #queueUrl: string

  readonly #sendTimeoutMs: number

  constructor(client: SQSClient, queueUrl: string, sendTimeoutMs = SQS_SEND_TIMEOUT_MS) {
    this.#client = client
    this.#queueUrl = queueUrl
    this.destination = `SQS queue ${queueUrl}`
    this.#sendTimeoutMs = sendTimeoutMs
  }

  async send(letter: DeadLetter): Promise<void> {
    const body = serializeDocument(documentOf(letter))
    const attributes: Record<string, MessageAttributeValue> = {
      topic: { DataType: 'String', StringValue: letter.topic },
      partition: { DataType: 'Number', StringValue: String(letter.partition) },
      offset: { DataType: 'Number', StringValue: String(letter.offset) },
      reason: { DataType: 'String', StringValue: letter.reason },
    }
    const size = Buffer.byteLength(body, 'utf8') + attributesSize(attributes)
    if (size > SQS_MAX_MESSAGE_BYTES) {
      throw new DeadLetterTooLargeError(this.destination, letter, size, SQS_MAX_MESSAGE_BYTES)
    }
    // One bound for the whole call: the SDK retries within it, and stops when it is over.
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.#sendTimeoutMs)
    try {
      await this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: body,
          MessageAttributes: attributes,
        }),
        { abortSignal: controller.signal },
      )
    } catch (error) {
      if (controller.signal.aborted) {
        throw new DeadLetterWriteError(
          this.destination,
          letter,
          `no answer within ${this.#sendTimeoutMs} ms (${messageOf(error)})`,
          error,
          'Check that SQS is reachable from the function (a VPC needs a NAT gateway or the sqsEndpoint interface endpoint)',
        )
      }
      const detail = messageOf(error)
      if (/shorter than|too long|maximum message size|MaximumMessageSize/i.test(detail)) {
        throw new DeadLetterTooLargeError(this.destination, letter, size, undefined, error)
      }
      const name = error instanceof Error ? error.name : ''
      const fix = /NonExistentQueue|QueueDoesNotExist/.test(name)
        ? 'Check DEAD_LETTER_QUEUE_URL: the queue does not exist'
        : /AccessDenied|KMS/.test(name)
          ? "Grant the function's role sqs:SendMessage on the queue (and kms:GenerateDataKey if it is encrypted)"
          : undefined
      throw new DeadLetterWriteError(this.destination, letter, detail, error, fix)
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {}
}

/** How SQS counts attributes: name, type and value bytes. */
function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0
  for (const [name, value] of Object.entries(attributes)) {
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '')
  }
  return size
}
