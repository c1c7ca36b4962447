/**
 * Starts the real services once for the integration tests: an Apache Kafka broker (KRaft,
 * loopback) and the DynamoDB API (dynalite) with the offsets table. Each test makes its own
 * topic. Stopped at the end; the broker's guard also stops it if this process dies.
 */
import type { TestProject } from 'vitest/node'
import { startLocalStack } from '../../src/local/local-stack.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBootstrapServers: string
    dynamodbEndpoint: string
    offsetsTable: string
  }
}

export default async function setup(project: TestProject) {
  const stack = await startLocalStack()
  project.provide('kafkaBootstrapServers', stack.broker.bootstrapServers)
  project.provide('dynamodbEndpoint', stack.dynamodb.endpoint)
  project.provide('offsetsTable', stack.env.DYNAMODB_TABLE!)
  return async () => {
    await stack.stop()
  }
}
