/**
 * Bundle stand-in for `ajv` (and `ajv-draft-04`, `ajv/dist/2020.js`), used only in the Kafka
 * client's bundles (the layer's, ../build-kafka-client-layer.ts, and the self-contained one). @platformatic/kafka compiles some 40 JSON schemas for its
 * option validation when it is imported: about half of the bundle's import time, measured
 * with `node --cpu-prof` (bench/README.md). It validates options only with `strict: true`,
 * which this project never sets, except the group options once per consumer, which are
 * fixed here. Tests and `lkc` run the real ajv, so the options the source passes are still
 * validated against the client's schemas on every `npm test`.
 */

type Validator = ((data: unknown) => boolean) & { errors: null }

function acceptAll(): Validator {
  return Object.assign(() => true, { errors: null })
}

export class Ajv {
  addKeyword(): this {
    return this
  }
  addFormat(): this {
    return this
  }
  addMetaSchema(): this {
    return this
  }
  addSchema(): this {
    return this
  }
  compile(): Validator {
    return acceptAll()
  }
  errorsText(): string {
    return 'option validation is left out of this bundle'
  }
}

export const Ajv2020 = Ajv
export default Ajv
