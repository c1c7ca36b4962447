/**
 * Starts the real services once for the integration tests: an Apache Kafka broker (KRaft,
 * loopback), the DynamoDB API (dynalite) with the offsets table, and the SQS API (moto's
 * server). Each test makes its own topic and queue. Stopped at the end; the broker's and
 * moto's guards also stop them if this process dies.
 */
import type { TestProject } from 'vitest/node'
import { startLocalStack } from '../../src/local/local-stack.ts'
import { startMotoServer } from './moto-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBootstrapServers: string
    dynamodbEndpoint: string
    offsetsTable: string
    sqsEndpoint: string
  }
}

export default async function setup(project: TestProject) {
  const [stack, moto] = await Promise.all([startLocalStack(), startMotoServer()])
  project.provide('kafkaBootstrapServers', stack.broker.bootstrapServers)
  project.provide('dynamodbEndpoint', stack.dynamodb.endpoint)
  project.provide('offsetsTable', stack.env.DYNAMODB_TABLE!)
  project.provide('sqsEndpoint', moto.endpoint)
  return async () => {
    await Promise.all([stack.stop(), moto.stop()])
  }
}
