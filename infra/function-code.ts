/**
 * A shard's function and where its code comes from: the team's `entry` (or, by default, the
 * package's logging handler), bundled at synthesis by `aws-cdk-lib/aws-lambda-nodejs` with the
 * project's own esbuild, locally (never Docker), into one ES module for Node.js 24, the Kafka
 * client aliased to a module that loads it from the layer; or a prebuilt `code`.
 */
import { createRequire } from 'node:module'
import { extname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import type { Construct } from 'constructs'
import type { ResolvedProps } from './consumer-props.ts'
import { InvalidConstructPropError } from './errors.ts'
import { kafkaClientFromLayerModule } from './kafka-client-layer/kafka-client-layer.ts'

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
  requireEsbuild(entry)
  const theirs = props.bundling ?? {}
  return new nodejs.NodejsFunction(scope, id, {
    ...settings,
    runtime,
    entry,
    handler: props.handler ?? 'handler',
    bundling: {
      target: 'node24',
      minify: true,
      sourceMap: true,
      keepNames: true,
      mainFields: ['module', 'main'],
      // The AWS SDK too: the versions the lock file pins, not whatever the runtime carries.
      externalModules: [],
      logLevel: nodejs.LogLevel.WARNING,
      ...theirs,
      format: nodejs.OutputFormat.ESM,
      forceDockerBundling: false,
      // Some dependencies still `require()` Node built-ins; give the ES module a `require`.
      banner: [
        "import { createRequire as __lkcCreateRequire } from 'node:module'; const require = __lkcCreateRequire(import.meta.url);",
        ...(theirs.banner ? [theirs.banner] : []),
      ].join('\n'),
      esbuildArgs: {
        ...theirs.esbuildArgs,
        // The Kafka client stays out of the bundle: it comes from the layer.
        '--alias': `@platformatic/kafka=${kafkaClientFromLayerModule()}`,
      },
    },
  })
}

/** Without a local esbuild, NodejsFunction would try Docker: say what to install instead. */
function requireEsbuild(entry: string): void {
  try {
    createRequire(import.meta.url).resolve('esbuild')
  } catch {
    throw new InvalidConstructPropError(
      'entry',
      entry,
      'esbuild installed in your project to bundle it locally (npm install --save-dev esbuild), or a prebuilt bundle as code',
    )
  }
}
