/**
 * The run lease, in the offsets table itself: one item under the same `consumer_id`, at
 * `partition` = -1 (the offset store reads only partitions >= 0, so it never sees it); with
 * shards (SHARD_COUNT > 1), one per shard, shard i at -(1 + i):
 *
 *   consumer_id (S), partition (N) = -1, topic (S), group_id (S),
 *   lease_owner (S)          who holds it: the invocation's request id and a random suffix,
 *   lease_expires_at (N)     until when, milliseconds since the epoch,
 *   lease_expires (S)        the same instant, ISO-8601, for people reading the table,
 *   lease_acquired_at (S)    when the holder took it (ISO-8601),
 *   updated_at (S)           when the item was last written (ISO-8601).
 *
 * No `offset` attribute, so nothing that reads offsets can mistake it for one.
 *
 * Every change is one conditional PutItem (no transactions, no UpdateItem: the seed's IAM
 * actions, PutItem and GetItem, are enough): take it when absent, expired or already ours;
 * renew and release only while it is still ours. A release leaves the item, expired, naming
 * its last holder. Every call is bounded (dynamodb-call.ts): taking and reading the lease are
 * tried up to three times, a renewal and a release once (the next renewal is the retry; an
 * unreleased lease expires by itself).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import type { LeaseAcquisition, RunLease } from '../ports.ts'
import { callDynamoDb, READ_RETRY_DELAYS_MS } from './dynamodb-call.ts'
import type { DynamoDbTimeouts, OffsetTableKey } from './dynamodb-offset-store.ts'

export interface LeaseState {
  readonly holder: string
  /** Milliseconds since the epoch; in the past when the last holder released it or died. */
  readonly expiresAt: number
  readonly acquiredAt?: string
}

/** The sort key of the lease item of shard 0 (the only one without shards). */
export const LEASE_PARTITION = -1

/** Each shard has its own lease: shard i at partition -(1 + i), so shards never wait on each other. */
export function leasePartitionOf(shardIndex: number): number {
  return LEASE_PARTITION - shardIndex
}

export class DynamoDbRunLease implements RunLease {
  readonly #client: DynamoDBClient
  readonly #key: OffsetTableKey
  readonly #consumerId: string
  readonly #partition: number
  readonly #timeouts: DynamoDbTimeouts
  /** When this process took its current lease, kept across renewals. */
  #acquiredAt = new Map<string, string>()

  constructor(client: DynamoDBClient, key: OffsetTableKey, shardIndex = 0, timeouts: DynamoDbTimeouts = {}) {
    this.#client = client
    this.#key = key
    this.#consumerId = `${key.groupId}_${key.topic}`
    this.#partition = leasePartitionOf(shardIndex)
    this.#timeouts = timeouts
  }

  async acquire(owner: string, now: number, durationMs: number): Promise<LeaseAcquisition> {
    const acquiredAt = new Date(now).toISOString()
    try {
      // Tried again after a timeout: if the first attempt was written after all, the lease is
      // already this owner's, and the condition lets the owner take it again.
      const previous = await this.#put(
        'take the run lease',
        owner,
        now + durationMs,
        acquiredAt,
        now,
        {
          ConditionExpression: 'attribute_not_exists(#owner) OR #expires <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'lease_owner', '#expires': 'lease_expires_at' },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':owner': { S: owner } },
        },
        READ_RETRY_DELAYS_MS,
      )
      this.#acquiredAt.set(owner, acquiredAt)
      const previousWriteAt =
        previous?.updated_at?.S === undefined ? undefined : Date.parse(previous.updated_at.S)
      return {
        acquired: true,
        expiresAt: now + durationMs,
        ...(previousWriteAt !== undefined && Number.isFinite(previousWriteAt) && { previousWriteAt }),
      }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const held = error.Item ?? (await this.#read())
      return {
        acquired: false,
        holder: held?.lease_owner?.S ?? 'unknown',
        expiresAt: Number(held?.lease_expires_at?.N ?? now),
      }
    }
  }

  async renew(owner: string, now: number, durationMs: number): Promise<boolean> {
    return this.#putIfOwner('renew the run lease', owner, now + durationMs, now)
  }

  async release(owner: string, now: number): Promise<void> {
    await this.#putIfOwner('release the run lease', owner, now, now)
    this.#acquiredAt.delete(owner)
  }

  /** Who holds the lease and until when, as stored (for `lkc status`, `reset` and `doctor`); none: never taken. */
  async current(): Promise<LeaseState | undefined> {
    const item = await this.#read()
    if (item?.lease_owner?.S === undefined) return undefined
    return {
      holder: item.lease_owner.S,
      expiresAt: Number(item.lease_expires_at?.N ?? 0),
      ...(item.lease_acquired_at?.S && { acquiredAt: item.lease_acquired_at.S }),
    }
  }

  async #putIfOwner(what: string, owner: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      await this.#put(
        what,
        owner,
        expiresAt,
        this.#acquiredAt.get(owner) ?? new Date(now).toISOString(),
        now,
        {
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'lease_owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        },
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false
      throw error
    }
  }

  async #put(
    what: string,
    owner: string,
    expiresAt: number,
    acquiredAt: string,
    now: number,
    condition: {
      ConditionExpression: string
      ExpressionAttributeNames: Record<string, string>
      ExpressionAttributeValues: Record<string, AttributeValue>
    },
    retryDelaysMs: readonly number[] = [],
  ): Promise<Record<string, AttributeValue> | undefined> {
    const result = await callDynamoDb(
      what,
      this.#key.table,
      (abortSignal) =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#key.table,
            Item: {
              consumer_id: { S: this.#consumerId },
              partition: { N: String(this.#partition) },
              topic: { S: this.#key.topic },
              group_id: { S: this.#key.groupId },
              lease_owner: { S: owner },
              lease_expires_at: { N: String(expiresAt) },
              lease_expires: { S: new Date(expiresAt).toISOString() },
              lease_acquired_at: { S: acquiredAt },
              updated_at: { S: new Date(now).toISOString() },
            },
            ...condition,
            // The item replaced, to tell when the previous run last wrote it.
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal },
        ),
      { ...this.#timeouts, retryDelaysMs },
    )
    return result.Attributes
  }

  async #read(): Promise<Record<string, AttributeValue> | undefined> {
    const result = await callDynamoDb(
      'read the run lease',
      this.#key.table,
      (abortSignal) =>
        this.#client.send(
          new GetItemCommand({
            TableName: this.#key.table,
            Key: { consumer_id: { S: this.#consumerId }, partition: { N: String(this.#partition) } },
            ConsistentRead: true,
          }),
          { abortSignal },
        ),
      { ...this.#timeouts, retryDelaysMs: READ_RETRY_DELAYS_MS },
    )
    return result.Item
  }
}
