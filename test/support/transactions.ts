/**
 * A real transactional producer (@platformatic/kafka's `Producer` with a `transactionalId`):
 * the broker writes the commit and abort markers, exactly as for a Java producer.
 */
import { randomUUID } from 'node:crypto'
import { Producer, stringSerializers } from '@platformatic/kafka'

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
