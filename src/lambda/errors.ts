import { LambdaKafkaConsumerError } from '../errors.ts'

/**
 * A package the function takes from its Lambda layer (the Kafka client) is nowhere to be found:
 * neither beside the bundle nor in any NODE_PATH folder. Fatal for the invocation, not retriable.
 */
export class LayerPackageNotFoundError extends LambdaKafkaConsumerError {
  readonly packageName: string
  readonly searched: readonly string[]

  constructor(packageName: string, searched: readonly string[], cause?: unknown) {
    super(
      `Package "${packageName}" was not found beside the function bundle nor in NODE_PATH ` +
        `(looked in: ${searched.length > 0 ? searched.join(', ') : 'NODE_PATH is empty'}). ` +
        'Attach the Kafka client layer that ScheduledKafkaConsumer builds (its package sits under nodejs/node_modules; ' +
        'pass your own as kafkaClientLayer only if it has the same layout), or deploy a bundle with the client inlined.',
      { cause },
    )
    this.packageName = packageName
    this.searched = searched
  }
}
