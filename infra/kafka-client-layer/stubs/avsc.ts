/**
 * Bundle stand-in for `avsc`, for @platformatic/kafka's own import of it only (build-kafka-client-layer.ts):
 * the client imports it for its Confluent Schema Registry support, which this consumer never
 * uses (VALUE_FORMAT=avro decodes with the real avsc, in a chunk loaded only then). 100 KiB
 * less to load at every cold start.
 */
const avro = {
  Type: {
    forSchema(): never {
      throw new Error("Avro (avsc) is left out of the Kafka client's part of the Lambda bundle")
    },
  },
}

export default avro
