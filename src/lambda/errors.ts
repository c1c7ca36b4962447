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
        'Attach the layer built by `node scripts/build-layer.ts` (its packages sit under nodejs/node_modules), ' +
        'or deploy a bundle built with `node scripts/build-lambda.ts --self-contained`.',
      { cause },
    )
    this.packageName = packageName
    this.searched = searched
  }
}
