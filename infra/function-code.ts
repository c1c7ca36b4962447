/**
 * A shard's function and where its code comes from: the team's `entry` (or, by default, the
 * package's logging handler), bundled at synthesis with the project's own esbuild, locally
 * (never Docker), into an ES module for Node.js 24 with the code only some settings use split
 * off, the Kafka client aliased to a module that loads it from the layer (entry-bundle.ts); or a
 * prebuilt `code`.
 */
import { extname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import type { Construct } from 'constructs'
import type { ResolvedProps } from './consumer-props.ts'
import { entryCode } from './entry-bundle.ts'

const ownExtension = extname(fileURLToPath(import.meta.url))

/** The package's logging handler, what the construct deploys without `entry` or `code`. */
export const DEFAULT_HANDLER_ENTRY = fileURLToPath(
  new URL(`../src/lambda/default-handler${ownExtension}`, import.meta.url),
)

/** Everything of the function but its code. */
export type FunctionSettings = Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>

export function consumerFunction(
  scope: Construct,
  id: string,
  settings: FunctionSettings,
  props: ResolvedProps,
): lambda.Function {
  const runtime = lambda.Runtime.NODEJS_24_X
  if (props.code) {
    return new lambda.Function(scope, id, {
      ...settings,
      runtime,
      code: props.code,
      handler: props.handler ?? 'index.handler',
    })
  }
  const entry = props.entry === undefined ? DEFAULT_HANDLER_ENTRY : resolve(props.entry)
  const handler = props.handler ?? 'handler'
  return new lambda.Function(scope, id, {
    ...settings,
    runtime,
    code: entryCode(entry, props.bundling),
    // As NodejsFunction names it: `index.<export>`, or the `file.export` given.
    handler: handler.includes('.') ? handler : `index.${handler}`,
  })
}
