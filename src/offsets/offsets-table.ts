/**
 * Creating the offsets table with the seed's key schema, for local runs and tests (in AWS
 * the CDK stack creates it): consumer_id (S) HASH, partition (N) RANGE, on-demand billing.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import { OffsetStoreError } from './errors.ts'

/** Creates the table if it does not exist; returns true when it created it. */
export async function createOffsetsTable(client: DynamoDBClient, table: string): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [
          { AttributeName: 'consumer_id', AttributeType: 'S' },
          { AttributeName: 'partition', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'consumer_id', KeyType: 'HASH' },
          { AttributeName: 'partition', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
  } catch (error) {
    if (error instanceof ResourceInUseException) return false
    throw OffsetStoreError.from(`create table "${table}"`, table, error)
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: table })
  return true
}
