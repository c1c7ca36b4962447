/**
 * The package's public entry, `lambda-kafka-consumer`: everything a team may import to write its
 * consumer. Anything not exported here (or from `./cdk`, `./testing`, `./default-handler`) is
 * internal and free to change. Importing it starts nothing: no handler, no connection.
 *
 *   import { createHandler, type KafkaMessage } from 'lambda-kafka-consumer'
 *   export const handler = createHandler<Order>({ async process(message) { ... } })
 *
 * Exported: `createHandler` and what it returns; the processor contract (`KafkaMessage`,
 * `ProcessMessage`, `ProcessBatch`, `MessageHeaders`, the filter and the formats); the `Logger` and `Metrics` ports a caller may implement to
 * pass its own; and the error classes, each a `LambdaKafkaConsumerError` with `retriable` and
 * its cause kept. Sorted by module, so that a new export has one obvious place.
 */

export { ConfigError, type ConfigProblem } from './config/errors.ts'
export {
  MessagesFailedError,
  OffsetConflictError,
  OffsetOutOfRangeError,
  ProcessingTimeoutError,
  StoredOffsetMismatchError,
} from './cycle/errors.ts'
export type { OffsetMismatch } from './cycle/types.ts'

export type { DeadLetterReason } from './dead-letters/dead-letter.ts'
export { DeadLetterTooLargeError, DeadLetterWriteError } from './dead-letters/errors.ts'
export { type ErrorDetails, LambdaKafkaConsumerError } from './errors.ts'
export {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaCredentialsError,
  KafkaTlsError,
  KafkaUnavailableError,
  TopicNotFoundError,
} from './kafka/errors.ts'
export { LayerPackageNotFoundError } from './lambda/errors.ts'
export {
  type ConsumerHandler,
  createHandler,
  type HandlerOptions,
  type InvocationContext,
  type RunReport,
} from './lambda/handler.ts'
export { OffsetStoreError } from './offsets/errors.ts'
export type { Logger, Metrics } from './ports.ts'
export {
  type DecodeFailureKind,
  MessageDecodeError,
  type UnreadableReason,
} from './processing/errors.ts'
export type {
  KafkaMessage,
  MessageHeaders,
  ProcessBatch,
  ProcessMessage,
  Processor,
} from './processing/message.ts'
export type { MessageFilter } from './processing/message-reader.ts'
export {
  SchemaNotFoundError,
  SchemaRegistryAccessError,
  SchemaRegistryUnavailableError,
} from './processing/registry/errors.ts'
export type { KeyFormat, ValueFormat } from './processing/value-formats.ts'
