/**
 * Bundles the Lambda handler with esbuild: one minified ES module, tree-shaken, for Node.js 24.
 * The Kafka client stays out of the bundle by default: in AWS it comes from the Lambda layer
 * (built by scripts/build-layer.ts), as the seed ships
 * its Kafka client in a layer. Node's `import` never searches NODE_PATH, where Lambda lists the
 * layer's folders, so the bundle loads the client through `src/lambda/import-from-layer.ts`,
 * which does (the reasons are in that file).
 *
 * Code imported only for some settings (the registry formats: avsc, protobufjs, ajv, the Glue
 * client; Secrets Manager; the MSK IAM signer) goes to chunks/ beside the handler, loaded when
 * used: deploy the folder, not the file.
 *
 *   node scripts/build-lambda.ts                 -> dist/lambda/index.mjs (Kafka client external)
 *   node scripts/build-lambda.ts --self-contained -> everything inlined, WebAssembly included,
 *                                                   the client's unused dependencies stubbed
 *   node scripts/build-lambda.ts --entry my-handler.ts -> your processor (exports `handler`)
 */
import { mkdir, rm } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build, type Metafile, type Plugin } from 'esbuild'
import { unusedKafkaClientDependencies } from '../infra/kafka-client-layer/build-kafka-client-layer.ts'

const root = resolve(import.meta.dirname, '..')

/** The packages the layer provides; everything else is inlined. */
export const LAYER_PACKAGES = ['@platformatic/kafka'] as const

/**
 * The Kafka client's dependencies that this function never runs, replaced by stand-ins (the
 * layer's builder owns them; the self-contained bundle uses the same).
 */
export { unusedKafkaClientDependencies }

export interface BundleOptions {
  /** Inline @platformatic/kafka too (its WebAssembly helper through its `bundled` entry). */
  readonly selfContained?: boolean
  readonly entry?: string
  readonly outfile?: string
}

export async function bundleLambda(
  options: BundleOptions = {},
): Promise<{ outfile: string; bytes: number; metafile: Metafile }> {
  const outfile = options.outfile ?? resolve(root, 'dist/lambda/index.mjs')
  await mkdir(dirname(outfile), { recursive: true })
  // The registry formats' code (Avro, Protobuf, JSON Schema, the Glue client) is imported only
  // when configured: split into chunks/ beside the handler, so the JSON path loads none of it.
  await rm(resolve(dirname(outfile), 'chunks'), { recursive: true, force: true })
  const result = await build({
    // Aliases and packages resolve from the project, whatever the caller's working directory.
    absWorkingDir: root,
    entryPoints: [
      { in: options.entry ?? resolve(root, 'src/lambda/default-handler.ts'), out: basename(outfile, '.mjs') },
    ],
    outdir: dirname(outfile),
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'none',
    // Error classes name themselves after their class (`new.target.name`): keep the names readable in logs.
    keepNames: true,
    mainFields: ['module', 'main'],
    plugins: options.selfContained ? [unusedKafkaClientDependencies] : [layerImports()],
    // The WebAssembly helper reads a .wasm file next to itself; its `bundled` entry inlines it.
    alias: options.selfContained ? { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' } : {},
    // Some dependencies still `require()` Node built-ins; give the ES module a `require`.
    banner: {
      js: "import { createRequire as __lkcCreateRequire } from 'node:module'; const require = __lkcCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  const metafile = result.metafile!
  // The handler's own file: what every cold start loads (chunks load only with their format).
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(root, path) === resolve(outfile))
  return { outfile, bytes: output?.[1].bytes ?? 0, metafile }
}

/**
 * Replaces `import { Consumer } from '@platformatic/kafka'` by a module that loads the package
 * from the layer at cold start (top-level await) and re-exports every name it has. The names are
 * read from the installed package at build time, the one the layer is built from.
 */
function layerImports(): Plugin {
  const loader = resolve(root, 'src/lambda/import-from-layer.ts')
  const names = new Set<string>(LAYER_PACKAGES)
  return {
    name: 'layer-imports',
    setup(builder) {
      builder.onResolve({ filter: /^@platformatic\/kafka$/ }, (args) =>
        names.has(args.path) ? { path: args.path, namespace: 'layer-package' } : undefined,
      )
      builder.onLoad({ filter: /.*/, namespace: 'layer-package' }, async (args) => {
        const exported = Object.keys(await import(args.path)).filter((name) => name !== 'default')
        return {
          contents: [
            `import { importFromLayer } from ${JSON.stringify(loader)}`,
            `const layerPackage = await importFromLayer(${JSON.stringify(args.path)})`,
            `export const { ${exported.join(', ')} } = layerPackage`,
          ].join('\n'),
          resolveDir: root,
          loader: 'js',
        }
      })
    },
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      'self-contained': { type: 'boolean' },
      outfile: { type: 'string' },
      entry: { type: 'string' },
    },
  })
  const { outfile, bytes } = await bundleLambda({
    selfContained: values['self-contained'] ?? false,
    ...(values.outfile && { outfile: resolve(values.outfile) }),
    // Your own module exporting `handler = createHandler({ process })`, instead of the default one.
    ...(values.entry && { entry: resolve(values.entry) }),
  })
  process.stdout.write(`Bundled the handler: ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`)
}
