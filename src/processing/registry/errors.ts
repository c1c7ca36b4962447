/**
 * What can go wrong reaching a schema registry. None of them is the message's fault, so none
 * dead-letters it: the partition stops before the message for this run, and the next run
 * tries again. A schema id the registry does not know is the message's fault: that is a
 * `FormatError` of kind `unknown-schema` (see registry-decoder.ts), and it is dead-lettered.
 */
import { LambdaKafkaConsumerError } from '../../errors.ts'

/** The registry did not answer in time, could not be reached, or failed (5xx): retriable. */
export class SchemaRegistryUnavailableError extends LambdaKafkaConsumerError {
  readonly registry: string
  readonly schemaId: string

  constructor(registry: string, schemaId: string, problem: string, cause?: unknown) {
    super(
      `Could not fetch schema ${schemaId} from ${registry}: ${problem}. The partition stops before this message for this run ` +
        '(it is not dead-lettered) and the next run tries again; if it lasts, check that the registry is up and reachable ' +
        'from the function (its network, SCHEMA_REGISTRY_URL or the AWS region), or raise SCHEMA_REGISTRY_TIMEOUT_MS.',
      { cause, retriable: true },
    )
    this.registry = registry
    this.schemaId = schemaId
  }
}

/** The registry refused this consumer (401, 403, AccessDenied): a setting to fix, not a message to drop. */
export class SchemaRegistryAccessError extends LambdaKafkaConsumerError {
  readonly registry: string
  readonly schemaId: string

  constructor(registry: string, schemaId: string, problem: string, fix: string, cause?: unknown) {
    super(
      `${registry} refused to give schema ${schemaId}: ${problem}. ${fix} The partition stops before this message ` +
        'until then (it is not dead-lettered).',
      { cause },
    )
    this.registry = registry
    this.schemaId = schemaId
  }
}

/** The registry answered that it has no such schema (Confluent 404 / 40403, Glue EntityNotFoundException). */
export class SchemaNotFoundError extends LambdaKafkaConsumerError {
  readonly registry: string
  readonly schemaId: string

  constructor(registry: string, schemaId: string, cause?: unknown) {
    super(`${registry} has no schema ${schemaId}`, { cause })
    this.registry = registry
    this.schemaId = schemaId
  }
}
