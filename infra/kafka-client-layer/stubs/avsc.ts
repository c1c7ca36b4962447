/**
 * Bundle stand-in for `avsc`, used only in the Kafka client's bundles (the layer's and the self-contained one):
 * @platformatic/kafka imports it for its Confluent Schema Registry support, which this
 * consumer never uses (messages are JSON). 100 KiB less to load at every cold start.
 */
const avro = {
  Type: {
    forSchema(): never {
      throw new Error('Avro (avsc) is left out of the Lambda bundle: this consumer decodes JSON only')
    },
  },
}

export default avro
