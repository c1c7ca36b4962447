/** Producing exact bytes (values that are not UTF-8, empty, null, 1 MB) for the bad-message scenarios. */
import { Admin, Producer } from '@platformatic/kafka'

export interface RawMessage {
  readonly key: string
  /** `null` is a tombstone. */
  readonly value: Buffer | null
  readonly partition: number
}

/** Sends each message on its own, in order (a 1 MB value fills a batch by itself). */
export async function produceRaw(bootstrapServers: string, topic: string, messages: readonly RawMessage[]) {
  const producer = new Producer({
    clientId: 'lkc-fault-raw',
    bootstrapBrokers: [bootstrapServers],
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  })
  try {
    for (const message of messages) {
      await producer.send({
        messages: [
          {
            topic,
            key: Buffer.from(message.key),
            ...(message.value !== null && { value: message.value }),
            partition: message.partition,
          },
        ],
      })
    }
  } finally {
    await producer.close()
  }
}

/** What retention does, now: deletes every record of `partition` before `beforeOffset`. */
export async function deleteRecords(
  bootstrapServers: string,
  topic: string,
  partition: number,
  beforeOffset: number,
) {
  const admin = new Admin({ clientId: 'lkc-fault-admin', bootstrapBrokers: [bootstrapServers] })
  try {
    await admin.deleteRecords({
      topics: [{ name: topic, partitions: [{ partition, offset: BigInt(beforeOffset) }] }],
    })
  } finally {
    await admin.close()
  }
}

export async function addPartitions(bootstrapServers: string, topic: string, count: number) {
  const admin = new Admin({ clientId: 'lkc-fault-admin', bootstrapBrokers: [bootstrapServers] })
  try {
    await admin.createPartitions({ topics: [{ name: topic, count }] })
  } finally {
    await admin.close()
  }
}
