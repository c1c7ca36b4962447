/**
 * A real producer of exact bytes, for the format tests: what a producer's Avro, Protobuf or
 * JSON Schema serializer writes (the registry's wire format), keys that are not text, headers
 * repeated under one key, tombstones.
 */
import { Producer } from '@platformatic/kafka'
import { services } from './services.ts'

export interface BytesMessage {
  readonly key?: Buffer | null
  /** `null` is a tombstone. */
  readonly value: Buffer | null
  readonly partition?: number
  /** In order; a key may repeat. */
  readonly headers?: ReadonlyArray<readonly [string, string]>
}

export async function produceBytes(topic: string, messages: readonly BytesMessage[]): Promise<void> {
  const producer = new Producer({
    clientId: 'lkc-test-bytes',
    bootstrapBrokers: [services().bootstrapServers],
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  })
  try {
    await producer.send({
      messages: messages.map((message) => ({
        topic,
        partition: message.partition ?? 0,
        ...(message.key != null && { key: message.key }),
        ...(message.value !== null && { value: message.value }),
        // Distinct Buffer objects: a Map keeps a repeated header key as often as it is given.
        ...(message.headers && {
          headers: new Map(message.headers.map(([key, value]) => [Buffer.from(key), Buffer.from(value)])),
        }),
      })),
    })
  } finally {
    await producer.close()
  }
}
