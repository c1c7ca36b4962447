/**
 * The port a registry decoder fetches schemas through: one schema by the id a message names
 * (a Confluent schema id, a Glue schema version id). Implemented by confluent-registry.ts (HTTP)
 * and glue-registry.ts (the AWS SDK); unit tests use a map.
 */

/** The schema languages a registry holds, as this consumer names them (VALUE_FORMAT). */
export type SchemaLanguage = 'avro' | 'protobuf' | 'json-schema'

export interface RegistrySchema {
  readonly language: SchemaLanguage
  /** The schema's text: Avro JSON, a .proto file, or a JSON Schema document. */
  readonly definition: string
}

/** What asking a registry something that needs no schema found (`lkc doctor`). */
export interface RegistryCheck {
  readonly ok: boolean
  readonly detail: string
  /** What to do, when not ok. */
  readonly fix?: string
}

export interface SchemaSource {
  /** For messages: `the schema registry at https://...`, `the AWS Glue Schema Registry (eu-west-1)`. */
  readonly name: string
  /** The wire format of the messages its schemas serve. */
  readonly wireFormat: 'confluent' | 'glue'
  /**
   * The schema with this id. Throws `SchemaNotFoundError` when the registry has none,
   * `SchemaRegistryUnavailableError` or `SchemaRegistryAccessError` when it cannot tell.
   * Gives up when `signal` aborts.
   */
  fetch(id: string, signal: AbortSignal): Promise<RegistrySchema>
  /**
   * Asks the registry something every registry answers without a schema: whether it can be
   * reached, is the kind of registry configured, and takes these credentials. Never throws;
   * gives up when `signal` aborts.
   */
  check(signal: AbortSignal): Promise<RegistryCheck>
  close?(): void
}
