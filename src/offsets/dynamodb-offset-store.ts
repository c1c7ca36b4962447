/**
 * The offsets table, exactly the seed's schema (`kafka-consumer-offsets`):
 *   consumer_id (S, partition key) = `{group_id}_{topic}`, partition (N, sort key),
 *   offset (N, the last offset processed), topic (S), group_id (S).
 * Extra attributes, which items of the Python design lack (they are read unchanged, and get
 * them at their next save): `updated_at` (ISO-8601), when the offset was last saved;
 * `topic_id` (S), the id of the topic it was saved for (Kafka's topic UUID: a re-created topic
 * has another); `offset_mismatch` (M), set by a run that found the offset does not fit its log,
 * until `lkc reset` rewrites the item.
 *
 * One more item per `consumer_id`, the consumer's start record, sits at a sort key no Kafka
 * partition can have (2^31): written by the first run before any offset, it holds how many
 * partitions the topic had then (`partition_count`). The run lease's items sit below 0.
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
import type {
  ConsumerStart,
  OffsetStore,
  OffsetWrite,
  OffsetWriteResult,
  RecordedMismatch,
  StoredOffset,
  StoredOffsets,
} from '../ports.ts'
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
/** The start record's sort key: past the largest partition number Kafka allows (2^31 - 1). */
export const START_RECORD_PARTITION = 2 ** 31

type Item = Record<string, AttributeValue>

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

  async read(): Promise<StoredOffsets> {
    const offsets = new Map<number, StoredOffset>()
    let start: ConsumerStart | undefined
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
        if (this.#isForeign(item)) {
          foreign.push({ partition, topic: item.topic?.S, groupId: item.group_id?.S })
        }
        if (partition === START_RECORD_PARTITION) {
          start = startOf(item)
          continue
        }
        const offset = Number(item.offset?.N)
        if (!Number.isInteger(partition) || !Number.isInteger(offset)) {
          throw new OffsetStoreError(
            `Item ${JSON.stringify(item)} in table ${this.#key.table} has no numeric "partition" or "offset". ` +
              "Fix or delete the item; offsets are numbers (the seed's schema).",
          )
        }
        offsets.set(partition, storedOffsetOf(item, offset))
      }
      exclusiveStartKey = page.LastEvaluatedKey
    } while (exclusiveStartKey !== undefined)
    if (foreign.length > 0) {
      throw new ConsumerIdCollisionError(this.#consumerId, this.#key.table, this.#key, foreign)
    }
    return start === undefined ? offsets : Object.assign(offsets, { start })
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
              Item: this.#item(write.partition, write.offset, updatedAt, write.topicId),
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
   * in between is not overwritten. The item is written whole: `topicId` (the topic's id now) is
   * stamped, and a recorded mismatch is cleared.
   */
  async overwrite(
    partition: number,
    offset: number,
    expected: number | undefined,
    topicId?: string,
  ): Promise<Exclude<OffsetWriteResult, { status: 'failed' }>> {
    try {
      await this.#send(`reset the offset of partition ${partition}`, (abortSignal) =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#key.table,
            Item: this.#item(partition, offset, new Date().toISOString(), topicId),
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

  /**
   * The consumer's start record, written once: a record already there (another shard's first
   * run wrote it) is kept as it is. Retried like a read: writing it twice changes nothing.
   */
  async recordStart(start: ConsumerStart): Promise<void> {
    try {
      await this.#send(
        "record the consumer's start",
        (abortSignal) =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#key.table,
              Item: {
                ...this.#keyOf(START_RECORD_PARTITION),
                topic: { S: this.#key.topic },
                group_id: { S: this.#key.groupId },
                partition_count: { N: String(start.partitionCount) },
                started_at: { S: start.startedAt ?? new Date().toISOString() },
              },
              ConditionExpression: 'attribute_not_exists(#p)',
              ExpressionAttributeNames: { '#p': 'partition' },
            }),
            { abortSignal },
          ),
        { retryDelaysMs: READ_RETRY_DELAYS_MS },
      )
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
    }
  }

  /**
   * Writes the item back as it was, offset included, with `offset_mismatch` added: every later
   * run sees the mark, and stops the partition, even once the log has grown past the offset.
   */
  async recordMismatch(
    partition: number,
    stored: StoredOffset,
    mismatch: RecordedMismatch,
  ): Promise<Exclude<OffsetWriteResult, { status: 'failed' }>> {
    const item: Item = {
      ...this.#keyOf(partition),
      offset: { N: String(stored.offset) },
      topic: { S: this.#key.topic },
      group_id: { S: this.#key.groupId },
      ...(stored.updatedAt !== undefined && { updated_at: { S: stored.updatedAt } }),
      ...(stored.topicId !== undefined && { topic_id: { S: stored.topicId } }),
      offset_mismatch: {
        M: {
          reason: { S: mismatch.reason },
          found_at: { S: mismatch.foundAt },
          log_end_offset: { N: String(mismatch.logEndOffset) },
          ...(mismatch.topicId !== undefined && { topic_id: { S: mismatch.topicId } }),
        },
      },
    }
    try {
      await this.#send(
        `record that the offset of partition ${partition} does not fit its log`,
        (abortSignal) =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.#key.table,
              Item: item,
              ConditionExpression: '#o = :expected',
              ExpressionAttributeNames: { '#o': 'offset' },
              ExpressionAttributeValues: { ':expected': { N: String(stored.offset) } },
            }),
            { abortSignal },
          ),
        { retryDelaysMs: READ_RETRY_DELAYS_MS },
      )
      return { partition, status: 'saved' }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const current = await this.#readOne(partition)
      return { partition, status: 'conflict', current: current === undefined ? undefined : Number(current) }
    }
  }

  #keyOf(partition: number): Item {
    return { consumer_id: { S: this.#consumerId }, partition: { N: String(partition) } }
  }

  #item(partition: number, offset: number, updatedAt: string, topicId: string | undefined): Item {
    return {
      ...this.#keyOf(partition),
      offset: { N: String(offset) },
      topic: { S: this.#key.topic },
      group_id: { S: this.#key.groupId },
      updated_at: { S: updatedAt },
      ...(topicId !== undefined && { topic_id: { S: topicId } }),
    }
  }

  async #readOne(partition: number): Promise<string | undefined> {
    const result = await this.#send(
      `read the offset of partition ${partition}`,
      (abortSignal) =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#key.table,
            Key: this.#keyOf(partition),
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

function storedOffsetOf(item: Item, offset: number): StoredOffset {
  const updatedAt = item.updated_at?.S
  const topicId = item.topic_id?.S
  const mark = item.offset_mismatch?.M
  const reason = mark?.reason?.S
  const mismatch: RecordedMismatch | undefined =
    mark === undefined || (reason !== 'topic-id' && reason !== 'beyond-end')
      ? undefined
      : {
          reason,
          foundAt: mark.found_at?.S ?? 'unknown',
          logEndOffset: Number(mark.log_end_offset?.N ?? Number.NaN),
          ...(mark.topic_id?.S !== undefined && { topicId: mark.topic_id.S }),
        }
  return {
    offset,
    ...(updatedAt !== undefined && { updatedAt }),
    ...(topicId !== undefined && { topicId }),
    ...(mismatch !== undefined && { mismatch }),
  }
}

function startOf(item: Item): ConsumerStart {
  const partitionCount = Number(item.partition_count?.N)
  if (!Number.isInteger(partitionCount) || partitionCount < 0) {
    throw new OffsetStoreError(
      `The consumer's start record ${JSON.stringify(item)} has no whole "partition_count". ` +
        'Delete the item (partition 2147483648): the next run writes it again.',
    )
  }
  const startedAt = item.started_at?.S
  return startedAt === undefined ? { partitionCount } : { partitionCount, startedAt }
}
