/**
 * The function's code from the team's `entry`: bundled at synthesis with the esbuild of their
 * project (its JS API, in this process: no Docker, no shell), into an ES module for Node.js 24
 * with the Kafka client aliased to the module that loads it from the layer, and code split: what
 * only some settings import (the registry formats' Avro, Protobuf and JSON Schema libraries and
 * the Glue client, Secrets Manager, the MSK IAM signer: about 1 MB) goes to `chunks/` beside
 * `index.mjs` and is loaded only when used. NodejsFunction cannot split (it writes one
 * `--outfile`), and a cold start compiled all of that inlined code on every import: about 50 ms
 * more, measured by `npm run bench` (bench/README.md).
 *
 * `bundling` keeps NodejsFunction's `BundlingOptions` type and the meaning of every esbuild
 * setting in it; the settings that need NodejsFunction's own steps (installing `nodeModules`,
 * `commandHooks`, `preCompilation`, Docker) are refused at synthesis, naming the way out.
 */
import { createHash } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { AssetHashType, DockerImage } from 'aws-cdk-lib'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs'
import type { BuildOptions } from 'esbuild'
import { InvalidConstructPropError } from './errors.ts'
import { kafkaClientFromLayerModule } from './kafka-client-layer/kafka-client-layer.ts'

/** Some dependencies still `require()` Node built-ins: each ES module output gets a `require`. */
const REQUIRE_BANNER =
  "import { createRequire as __lkcCreateRequire } from 'node:module'; const require = __lkcCreateRequire(import.meta.url);"

/** Settings that need NodejsFunction's own bundling steps, and what to do instead. */
const REFUSED: ReadonlyArray<readonly [keyof nodejs.BundlingOptions, string]> = [
  ['nodeModules', 'modules to install beside the bundle: bundle them, or put them in a layer of yours'],
  [
    'commandHooks',
    'commands around the bundling: run them before synthesis, or build it yourself and pass code',
  ],
  [
    'preCompilation',
    'a tsc run first: esbuild strips the types itself; for tsc, build it yourself and pass code',
  ],
  ['forceDockerBundling', 'Docker: the construct bundles locally with your esbuild'],
  ['dockerImage', 'Docker: the construct bundles locally with your esbuild'],
]

/** Flags of `esbuildArgs` that the construct sets itself: what is built and where it goes. */
const OWN_FLAGS = new Set([
  'bundle',
  'splitting',
  'format',
  'platform',
  'outfile',
  'outdir',
  'outbase',
  'out-extension',
  'entry-names',
  'chunk-names',
  'asset-names',
  'write',
  'allow-overwrite',
  'metafile',
  'watch',
  'serve',
  'servedir',
])
/** `--name:key=value` flags, and the option (an object of keys) each sets. */
const KEYED_FLAGS: Readonly<Record<string, string>> = {
  alias: 'alias',
  define: 'define',
  loader: 'loader',
  'log-override': 'logOverride',
  supported: 'supported',
  banner: 'banner',
  footer: 'footer',
}
/** Flags that name one item of a list option each time (`--external:x`), or a comma-separated list. */
const LIST_FLAGS: Readonly<Record<string, string>> = {
  external: 'external',
  pure: 'pure',
  inject: 'inject',
  drop: 'drop',
  'drop-labels': 'dropLabels',
  conditions: 'conditions',
  'resolve-extensions': 'resolveExtensions',
  'main-fields': 'mainFields',
  'node-paths': 'nodePaths',
  target: 'target',
}
const NUMBER_FLAGS = new Set(['log-limit', 'line-limit'])

/**
 * NodejsFunction's `esbuildArgs` (CLI flags, as it passes them to the esbuild command) as
 * options of esbuild's JS API: `--kebab-name` is `camelName`, `--name:key=value` sets a key of an
 * object option, list flags add items. esbuild itself then rejects an option it does not have.
 */
export function esbuildArgsToOptions(args: Readonly<Record<string, unknown>>): BuildOptions {
  const options: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(args)) {
    if (!key.startsWith('--')) {
      throw new InvalidConstructPropError(
        'bundling.esbuildArgs',
        key,
        'esbuild flags, each starting with --, e.g. { "--log-limit": 0 }',
      )
    }
    const name = key.slice(2)
    const values = Array.isArray(raw) ? raw : [raw]
    for (const value of values) {
      if (value === false || value === undefined || value === null) continue
      // As NodejsFunction hands them to the CLI: `--alias: 'a=b'` is `--alias:a=b`, `--x: 'v'` is `--x=v`.
      const separator = name.includes(':') ? '=' : name in KEYED_FLAGS || name in LIST_FLAGS ? ':' : '='
      applyFlag(options, value === true || value === '' ? name : `${name}${separator}${String(value)}`, key)
    }
  }
  return options as BuildOptions
}

function applyFlag(options: Record<string, unknown>, flag: string, key: string): void {
  const colon = flag.indexOf(':')
  const equals = flag.indexOf('=')
  const nameEnd = colon >= 0 && (equals < 0 || colon < equals) ? colon : equals >= 0 ? equals : flag.length
  const name = flag.slice(0, nameEnd)
  const rest = nameEnd < flag.length ? flag.slice(nameEnd + 1) : undefined
  if (OWN_FLAGS.has(name)) {
    throw new InvalidConstructPropError(
      'bundling.esbuildArgs',
      key,
      `a flag the construct does not set itself (it builds index.mjs and chunks/ as ES modules${name === 'metafile' ? '; for a metafile, bundling.metafile' : ''})`,
    )
  }
  const keyed = KEYED_FLAGS[name]
  if (keyed !== undefined) {
    const pair = rest ?? ''
    const split = pair.indexOf('=')
    const object = (options[keyed] as Record<string, string> | undefined) ?? {}
    object[split < 0 ? pair : pair.slice(0, split)] = split < 0 ? '' : pair.slice(split + 1)
    options[keyed] = object
    return
  }
  const listed = LIST_FLAGS[name]
  if (listed !== undefined) {
    const list = (options[listed] as string[] | undefined) ?? []
    list.push(...(rest ?? '').split(',').filter((item) => item.length > 0))
    options[listed] = list
    return
  }
  const option = name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
  if (rest === undefined || rest === 'true') options[option] = true
  else if (rest === 'false') options[option] = false
  else options[option] = NUMBER_FLAGS.has(name) ? Number(rest) : rest
}

export interface EntryBundleOptions {
  readonly entry: string
  /** Where `index.mjs` and `chunks/` go. */
  readonly outdir: string
  readonly bundling?: nodejs.BundlingOptions
  /** What `@platformatic/kafka` resolves to; default: the module that loads it from the layer. */
  readonly kafkaClient?: string
  /** esbuild's working directory (relative paths in the settings); default: the project's root. */
  readonly projectRoot?: string
}

/** The esbuild options the construct bundles an entry with (also what `npm run bench` measures). */
export function entryBuildOptions(options: EntryBundleOptions): BuildOptions {
  const theirs = options.bundling ?? {}
  for (const [setting, instead] of REFUSED) {
    if (theirs[setting] !== undefined && theirs[setting] !== false) {
      throw new InvalidConstructPropError(`bundling.${setting}`, '(set)', `not to be set; ${instead}`)
    }
  }
  // esbuildArgs come last, as NodejsFunction puts them last on esbuild's command line.
  const fromArgs = theirs.esbuildArgs ? esbuildArgsToOptions(theirs.esbuildArgs) : {}
  const sourceMap = theirs.sourceMap ?? true
  const sourceMapMode = theirs.sourceMapMode ?? 'default'
  return {
    target: theirs.target ?? 'node24',
    minify: theirs.minify ?? true,
    sourcemap: sourceMap ? (sourceMapMode === 'default' ? 'linked' : sourceMapMode) : false,
    sourcesContent: theirs.sourcesContent ?? true,
    // Error classes name themselves after their class (`new.target.name`): keep the names readable in logs.
    keepNames: theirs.keepNames ?? true,
    mainFields: theirs.mainFields ?? ['module', 'main'],
    logLevel: theirs.logLevel ?? 'warning',
    ...(theirs.tsconfig && { tsconfig: resolve(theirs.tsconfig) }),
    ...(theirs.charset && { charset: theirs.charset }),
    ...(theirs.metafile && { metafile: true }),
    ...fromArgs,
    // The AWS SDK too, by default: the versions the lock file pins, not whatever the runtime carries.
    external: [...(theirs.externalModules ?? []), ...(fromArgs.external ?? [])],
    // esbuild checks the loader names.
    loader: { ...theirs.loader, ...fromArgs.loader } as BuildOptions['loader'],
    define: { ...theirs.define, ...fromArgs.define },
    inject: [...(theirs.inject ?? []), ...(fromArgs.inject ?? [])],
    banner: { js: [REQUIRE_BANNER, theirs.banner, fromArgs.banner?.js].filter(Boolean).join('\n') },
    ...((theirs.footer ?? fromArgs.footer?.js) && {
      footer: { js: [theirs.footer, fromArgs.footer?.js].filter(Boolean).join('\n') },
    }),
    // The Kafka client stays out of the bundle: it comes from the layer.
    alias: { ...fromArgs.alias, '@platformatic/kafka': options.kafkaClient ?? kafkaClientFromLayerModule() },
    // What is built, and where: one ES module for the handler, the code only some settings use split off.
    absWorkingDir: options.projectRoot ?? projectRootOf(options.entry),
    entryPoints: [{ in: options.entry, out: 'index' }],
    outdir: options.outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
  }
}

/**
 * Bundles `entry` into `outdir` (synchronously: CDK's local bundling is). With
 * `bundling.metafile`, esbuild's metafile is written beside it as `index.meta.json`, as
 * NodejsFunction writes it.
 */
export function bundleEntry(options: EntryBundleOptions): void {
  const esbuild = loadEsbuild(options.entry)
  const buildOptions = entryBuildOptions(options)
  const result = esbuild.buildSync(buildOptions)
  if (result.metafile !== undefined) {
    writeFileSync(join(options.outdir, 'index.meta.json'), JSON.stringify(result.metafile))
  }
}

/** The function's code: `entry` bundled at synthesis, locally (see the module's header). */
export function entryCode(entry: string, bundling: nodejs.BundlingOptions | undefined): lambda.Code {
  // Fail at the construct, not inside CDK's staging: say what to install.
  loadEsbuild(entry)
  const projectRoot = projectRootOf(entry)
  // Distinguishes this asset's bundling from another entry's in CDK's staging cache (which
  // keys on the bundling options' data, not on the functions in them).
  const recipe = createHash('sha256')
    .update(JSON.stringify({ entry: relative(projectRoot, entry), bundling: bundling ?? {} }))
    .digest('hex')
  return lambda.Code.fromAsset(projectRoot, {
    ...(bundling?.assetHash === undefined
      ? { assetHashType: AssetHashType.OUTPUT }
      : { assetHash: bundling.assetHash, assetHashType: AssetHashType.CUSTOM }),
    bundling: {
      // Never used: the local bundling below either succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/lambda/nodejs:24'),
      environment: { LKC_BUNDLE_RECIPE: recipe },
      local: {
        tryBundle(outputDir) {
          bundleEntry({ entry, outdir: outputDir, projectRoot, ...(bundling && { bundling }) })
          return true
        },
      },
    },
  })
}

type Esbuild = typeof import('esbuild')

/** The project's own esbuild (an optional peer dependency), or an error saying to install it. */
function loadEsbuild(entry: string): Esbuild {
  try {
    return createRequire(import.meta.url)('esbuild') as Esbuild
  } catch {
    throw new InvalidConstructPropError(
      'entry',
      entry,
      'esbuild installed in your project to bundle it locally (npm install --save-dev esbuild), or a prebuilt bundle as code',
    )
  }
}

const LOCK_FILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb']

/** The folder of the nearest lock file above the entry, as NodejsFunction finds the project's root. */
function projectRootOf(entry: string): string {
  for (let folder = dirname(resolve(entry)); ; folder = dirname(folder)) {
    if (LOCK_FILES.some((file) => existsSync(join(folder, file)))) return folder
    if (dirname(folder) === folder) return dirname(resolve(entry))
  }
}
