/**
 * Bundle stand-in for `avsc`, used only in the Lambda bundle (scripts/build-lambda.ts):
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
