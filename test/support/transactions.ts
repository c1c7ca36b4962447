/**
 * A real transactional producer (@platformatic/kafka's `Producer` with a `transactionalId`):
 * the broker writes the commit and abort markers, exactly as for a Java producer.
 */
import { randomUUID } from 'node:crypto'
import { Consumer, FetchIsolationLevels, Producer, stringSerializers } from '@platformatic/kafka'

export interface TransactionalMessage {
  readonly key: string
  readonly value: string
  readonly partition: number
}

export interface TransactionalProducer {
  /** Sends the messages in one transaction, then commits or aborts it. */
  transaction(
    topic: string,
    messages: readonly TransactionalMessage[],
    outcome: 'commit' | 'abort',
  ): Promise<void>
  /** Sends the messages in a transaction left open; call the returned function to end it. */
  open(
    topic: string,
    messages: readonly TransactionalMessage[],
  ): Promise<(outcome: 'commit' | 'abort') => Promise<void>>
  close(): Promise<void>
}

export function transactionalProducer(bootstrapServers: string): TransactionalProducer {
  const producer = new Producer({
    clientId: 'lkc-test-transactions',
    bootstrapBrokers: [bootstrapServers],
    serializers: stringSerializers,
    idempotent: true,
    transactionalId: `tx-${randomUUID()}`,
    acks: -1,
    autocreateTopics: false,
  })
  const open = async (topic: string, messages: readonly TransactionalMessage[]) => {
    const transaction = await producer.beginTransaction()
    await transaction.send({ messages: messages.map((message) => ({ topic, ...message })) })
    return async (outcome: 'commit' | 'abort') => {
      if (outcome === 'commit') await transaction.commit()
      else await transaction.abort()
    }
  }
  return {
    open,
    async transaction(topic, messages, outcome) {
      const end = await open(topic, messages)
      await end(outcome)
    },
    close: () => producer.close(),
  }
}

/**
 * Waits until no transaction is pending on the topic: the last stable offset of every
 * partition has reached its high watermark. A commit or abort returns once the coordinator has
 * decided; the markers reach the partitions a moment later, and only then do readers see them.
 */
export async function transactionsSettled(bootstrapServers: string, topic: string, timeoutMs = 20_000) {
  const consumer = new Consumer({
    clientId: 'lkc-test-lso',
    groupId: 'lkc-test-lso',
    bootstrapBrokers: [bootstrapServers],
  })
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const [stable, high] = await Promise.all([
        consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED }),
        consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED }),
      ])
      const lso = stable.get(topic) ?? []
      const hw = high.get(topic) ?? []
      if (hw.every((end, partition) => lso[partition] === end)) return
      if (Date.now() > deadline)
        throw new Error(`transactionsSettled(${topic}): still pending after ${timeoutMs} ms`)
      await new Promise((wait) => setTimeout(wait, 50))
    }
  } finally {
    await consumer.close(true)
  }
}
