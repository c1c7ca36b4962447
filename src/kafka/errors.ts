import { LambdaKafkaConsumerError } from '../errors.ts'

/** The topic does not exist on the cluster (it is never created by the consumer). */
export class TopicNotFoundError extends LambdaKafkaConsumerError {
  readonly topic: string

  constructor(topic: string, bootstrapServers: readonly string[], cause?: unknown) {
    super(
      `Topic "${topic}" does not exist on the Kafka cluster at ${bootstrapServers.join(',')}. ` +
        'Check KAFKA_TOPIC, or create the topic first; nothing was consumed or written.',
      { cause },
    )
    this.topic = topic
  }
}

/** No broker answered, or the cluster failed a request after the client's own retries. */
export class KafkaUnavailableError extends LambdaKafkaConsumerError {
  readonly bootstrapServers: readonly string[]

  constructor(operation: string, bootstrapServers: readonly string[], detail: string, cause?: unknown) {
    super(
      `Kafka ${operation} failed at ${bootstrapServers.join(',')}: ${detail}. ` +
        'Check that KAFKA_BOOTSTRAP_SERVERS is right and that the brokers are reachable from here ' +
        '(VPC subnets, security groups, listeners); the next run retries from the stored offsets.',
      { cause, retriable: true },
    )
    this.bootstrapServers = bootstrapServers
  }
}
