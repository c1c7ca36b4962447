/**
 * Every bad value fails at start, through the Lambda handler and through `lkc run`: the error
 * names the key, the value seen and what is allowed, and nothing is consumed or written. Kafka
 * is reached through a counting proxy in front of the real broker, so "nothing consumed" is
 * measured (no connection at all), not assumed; a good run through the same proxy shows that
 * the count would see one.
 */
import { createConnection, createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/config/errors.ts'
import { createHandler } from '../../../src/lambda/handler.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { lkc } from '../../support/cli.ts'
import { RecordingLogger } from '../../support/fakes.ts'
import {
  consumerEnv,
  freshTopic,
  numberedMessages,
  produce,
  services,
  storedItems,
} from '../../support/services.ts'

const GROUP = 'lambda-consumer-group'
let proxy: Server
let proxyAddress: string
let connections = 0
const sockets = new Set<{ destroy(): void }>()

beforeAll(async () => {
  const [host, port] = services().bootstrapServers.split(':')
  proxy = createServer((client) => {
    connections++
    const upstream = createConnection({ host, port: Number(port) })
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>((listening) => proxy.listen(0, '127.0.0.1', listening))
  const address = proxy.address()
  proxyAddress = typeof address === 'object' && address ? `127.0.0.1:${address.port}` : ''
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((closed) => proxy.close(closed))
})

const badValues: Array<[key: string, value: string, allowed: string]> = [
  ['MAX_MESSAGES', 'lots', 'a whole number from 1 to 10000000'],
  ['MAX_MESSAGES', '-5', 'a whole number from 1 to 10000000'],
  ['MAX_MESSAGES', '99999999999', 'a whole number from 1 to 10000000'],
  ['KAFKA_SECURITY_PROTOCOL', 'TLS', 'one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL'],
  ['KAFKA_BOOTSTRAP_SERVERS', 'localhost', 'a comma-separated list of host:port'],
  ['KAFKA_BOOTSTRAP_SERVERS', '127.0.0.1:9092;127.0.0.1:9093', 'a comma-separated list of host:port'],
  ['DYNAMODB_TABLE', 'offsets/table', 'a DynamoDB table name: 3 to 255 of a-z A-Z 0-9 _ . -'],
  ['DYNAMODB_TABLE', 'ab', 'a DynamoDB table name: 3 to 255 of a-z A-Z 0-9 _ . -'],
  ['KAFKA_SASL_MECHANISM', 'SCRAM-SHA-1', 'one of: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM'],
]

async function topicWithMessages(): Promise<{
  topic: string
  env: (key: string, value: string) => Record<string, string>
}> {
  const topic = await freshTopic(1)
  await produce(topic, numberedMessages(3, 1))
  return {
    topic,
    env: (key, value) => consumerEnv(topic, { KAFKA_BOOTSTRAP_SERVERS: proxyAddress, [key]: value }),
  }
}

describe('a bad configuration value', () => {
  it('a good configuration through the same proxy does connect and consume (the count can see it)', async () => {
    const { topic } = await topicWithMessages()
    const before = connections
    const handler = createHandler({
      env: consumerEnv(topic, { KAFKA_BOOTSTRAP_SERVERS: proxyAddress }),
      logger: new RecordingLogger(),
    })

    const report = await handler({}, { getRemainingTimeInMillis: () => 60_000 }).finally(() =>
      handler.close(),
    )

    expect(report.count).toBe(3)
    expect(connections - before).toBeGreaterThan(0)
  })

  it.each(badValues)(
    '%s=%s stops the handler at start: key, value and what is allowed; nothing consumed or written',
    async (key, value, allowed) => {
      const { topic, env } = await topicWithMessages()
      const seen: KafkaMessage[] = []
      const before = connections
      const handler = createHandler({
        env: env(key, value),
        logger: new RecordingLogger(),
        process: (m) => void seen.push(m),
      })

      const error = await handler({}, { getRemainingTimeInMillis: () => 60_000 })
        .catch((thrown: unknown) => thrown)
        .finally(() => handler.close())

      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).problems).toEqual([
        { key, value, expected: expect.stringContaining(allowed) },
      ])
      expect((error as Error).message).toContain(`${key}=${JSON.stringify(value)}: ${allowed}`)
      expect(seen).toEqual([])
      expect(connections).toBe(before)
      expect(await storedItems(`${GROUP}_${topic}`)).toEqual([])
    },
  )

  it.each(badValues)(
    '%s=%s makes lkc run exit 2 with the same error; nothing consumed or written',
    async (key, value, allowed) => {
      const { topic, env } = await topicWithMessages()
      const before = connections

      const result = await lkc(['run'], env(key, value))

      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`${key}=${JSON.stringify(value)}: ${allowed}`)
      expect(result.stderr).toContain('nothing was consumed')
      expect(connections).toBe(before)
      expect(await storedItems(`${GROUP}_${topic}`)).toEqual([])
    },
  )
})
