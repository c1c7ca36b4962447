/**
 * The offsets table, exactly the seed's schema (`kafka-consumer-offsets`):
 *   consumer_id (S, partition key) = `{group_id}_{topic}`, partition (N, sort key),
 *   offset (N, the last offset processed), topic (S), group_id (S).
 * One extra attribute, `updated_at` (ISO-8601), says when an offset was last saved; items of
 * the Python design, which lack it, are read unchanged.
 *
 * Reads are one strongly consistent Query; an item whose `topic` or `group_id` is another
 * consumer's (two consumers whose `consumer_id` collide) makes the read refuse to start.
 * Writes are single-item conditional PutItems (no transactions: dynalite has none, and none
 * are needed): an offset changes only if it still holds the value this run read, so it can
 * never move backwards or lose another writer's update.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb'
import type { OffsetStore, OffsetWrite, OffsetWriteResult, StoredOffset } from '../ports.ts'
import { callDynamoDb, type DynamoDbCallBounds, READ_RETRY_DELAYS_MS } from './dynamodb-call.ts'
import { ConsumerIdCollisionError, type ForeignItem, OffsetStoreError } from './errors.ts'

export interface OffsetTableKey {
  readonly table: string
  readonly topic: string
  readonly groupId: string
}

/** How long one attempt of one DynamoDB call may take (dynamodb-call.ts); tests shorten it. */
export interface DynamoDbTimeouts {
  readonly attemptTimeoutMs?: number
}

/** Partition numbers below zero hold items that are not offsets (the run lease uses -1). */
const FIRST_PARTITION = 0

export class DynamoDbOffsetStore implements OffsetStore {
  readonly #client: DynamoDBClient
  readonly #key: OffsetTableKey
  readonly #consumerId: string
  readonly #timeouts: DynamoDbTimeouts

  constructor(client: DynamoDBClient, key: OffsetTableKey, timeouts: DynamoDbTimeouts = {}) {
    this.#client = client
    this.#key = key
    this.#consumerId = `${key.groupId}_${key.topic}`
    this.#timeouts = timeouts
  }

  get consumerId(): string {
    return this.#consumerId
  }

  async read(): Promise<Map<number, StoredOffset>> {
    const offsets = new Map<number, StoredOffset>()
    const foreign: ForeignItem[] = []
    let exclusiveStartKey: Record<string, AttributeValue> | undefined
    do {
      const page = await this.#send(
        'read the stored offsets',
        (abortSignal) =>
          this.#client.send(
            new QueryCommand({
              TableName: this.#key.table,
              KeyConditionExpression: '#id = :id AND #p >= :first',
              ExpressionAttributeNames: { '#id': 'consumer_id', '#p': 'partition' },
              ExpressionAttributeValues: {
                ':id': { S: this.#consumerId },
                ':first': { N: String(FIRST_PARTITION) },
              },
              ConsistentRead: true,
              ExclusiveStartKey: exclusiveStartKey,
            }),
            { abortSignal },
          ),
        { retryDelaysMs: READ_RETRY_DELAYS_MS },
      )
      for (const item of page.Items ?? []) {
        const partition = Number(item.partition?.N)
        const offset = Number(item.offset?.N)
        if (!Number.isInteger(partition) || !Number.isInteger(offset)) {
          throw new OffsetStoreError(
            `Item ${JSON.stringify(item)} in table ${this.#key.table} has no numeric "partition" or "offset". ` +
              "Fix or delete the item; offsets are numbers (the seed's schema).",
          )
        }
        if (this.#isForeign(item)) {
          foreign.push({ partition, topic: item.topic?.S, groupId: item.group_id?.S })
        }
        const updatedAt = item.updated_at?.S
        offsets.set(partition, updatedAt === undefined ? { offset } : { offset, updatedAt })
      }
      exclusiveStartKey = page.LastEvaluatedKey
    } while (exclusiveStartKey !== undefined)
    if (foreign.length > 0) {
      throw new ConsumerIdCollisionError(this.#consumerId, this.#key.table, this.#key, foreign)
    }
    return offsets
  }

  /**
   * An item another consumer wrote: its `topic` or `group_id` is not this consumer's. Every
   * writer of the seed's schema sets both; an item without them is taken as this consumer's.
   */
  #isForeign(item: Record<string, AttributeValue>): boolean {
    const topic = item.topic?.S
    const groupId = item.group_id?.S
    return (
      (topic !== undefined && topic !== this.#key.topic) ||
      (groupId !== undefined && groupId !== this.#key.groupId)
    )
  }

  /**
   * One attempt per write, each cut at `endBy` at the latest: the run cycle retries a failed
   * write itself, as long as the invocation's deadline allows. The writes are independent: one
   * that fails is reported `failed` beside the others, which may well have been saved.
   */
  async save(writes: readonly OffsetWrite[], endBy?: number): Promise<OffsetWriteResult[]> {
    const updatedAt = new Date().toISOString()
    return Promise.all(
      writes.map((write) =>
        this.#saveOne(write, updatedAt, endBy).catch(
          (error: unknown): OffsetWriteResult => ({ partition: write.partition, status: 'failed', error }),
        ),
      ),
    )
  }

  async #saveOne(
    write: OffsetWrite,
    updatedAt: string,
    endBy: number | undefined,
  ): Promise<OffsetWriteResult> {
    const expected = write.expected
    try {
      await this.#send(
        `save the offset of partition ${write.partition}`,
        (abortSignal) =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#key.table,
              Item: this.#item(write.partition, write.offset, updatedAt),
              // Both comparisons name the stored attribute: "only from the value read, only forward".
              ConditionExpression:
                expected === undefined ? 'attribute_not_exists(#o)' : '#o = :expected AND #o < :new',
              ExpressionAttributeNames: { '#o': 'offset' },
              ...(expected !== undefined && {
                ExpressionAttributeValues: {
                  ':expected': { N: String(expected) },
                  ':new': { N: String(write.offset) },
                },
              }),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
            { abortSignal },
          ),
        { endBy },
      )
      return { partition: write.partition, status: 'saved' }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      // DynamoDB returns the item that failed the condition; servers that do not (dynalite) are asked.
      const current = error.Item?.offset?.N ?? (await this.#readOne(write.partition))
      return {
        partition: write.partition,
        status: 'conflict',
        current: current === undefined ? undefined : Number(current),
      }
    }
  }

  /**
   * Sets a partition's offset to any value, backwards included: the operator's reset
   * (`lkc reset`). Still conditional on the value the operator was shown, so a run that saved
   * in between is not overwritten.
   */
  async overwrite(
    partition: number,
    offset: number,
    expected: number | undefined,
  ): Promise<Exclude<OffsetWriteResult, { status: 'failed' }>> {
    try {
      await this.#send(`reset the offset of partition ${partition}`, (abortSignal) =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#key.table,
            Item: this.#item(partition, offset, new Date().toISOString()),
            ConditionExpression: expected === undefined ? 'attribute_not_exists(#o)' : '#o = :expected',
            ExpressionAttributeNames: { '#o': 'offset' },
            ...(expected !== undefined && {
              ExpressionAttributeValues: { ':expected': { N: String(expected) } },
            }),
          }),
          { abortSignal },
        ),
      )
      return { partition, status: 'saved' }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const current = await this.#readOne(partition)
      return { partition, status: 'conflict', current: current === undefined ? undefined : Number(current) }
    }
  }

  #item(partition: number, offset: number, updatedAt: string): Record<string, AttributeValue> {
    return {
      consumer_id: { S: this.#consumerId },
      partition: { N: String(partition) },
      offset: { N: String(offset) },
      topic: { S: this.#key.topic },
      group_id: { S: this.#key.groupId },
      updated_at: { S: updatedAt },
    }
  }

  async #readOne(partition: number): Promise<string | undefined> {
    const result = await this.#send(
      `read the offset of partition ${partition}`,
      (abortSignal) =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#key.table,
            Key: { consumer_id: { S: this.#consumerId }, partition: { N: String(partition) } },
            ConsistentRead: true,
          }),
          { abortSignal },
        ),
      { retryDelaysMs: READ_RETRY_DELAYS_MS },
    )
    return result.Item?.offset?.N
  }

  /** A failed condition comes out as it is (the caller reports a conflict); anything else as an OffsetStoreError. */
  #send<T>(
    what: string,
    call: (abortSignal: AbortSignal) => Promise<T>,
    bounds: Omit<DynamoDbCallBounds, 'attemptTimeoutMs'> = {},
  ): Promise<T> {
    return callDynamoDb(what, this.#key.table, call, { ...this.#timeouts, ...bounds })
  }
}
