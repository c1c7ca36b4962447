/**
 * Builds the Lambda layer that carries the Kafka client: `@platformatic/kafka` at the version the
 * project's lockfile installed, and its production dependencies, under `nodejs/node_modules/`
 * (the folder Lambda's Node.js runtimes list in NODE_PATH). The function bundle leaves the client
 * out and loads it from there (scripts/build-lambda.ts).
 *
 * The client's optional native CRC32C (`@node-rs/crc32`) ships one binary per platform: npm is
 * asked for Amazon Linux's (`--os linux --cpu <arm64|x64> --libc glibc`), whatever machine builds
 * the layer. Without it the client falls back to its WebAssembly CRC32C, slower but correct.
 *
 * Beside the installed package, the layer carries the client pre-bundled into one file,
 * `@platformatic/kafka/lkc-bundle.mjs`, which the function loads (src/lambda/import-from-layer.ts):
 * the installed package compiles some 40 option-validation schemas when imported, most of a cold
 * start's import time; the bundle leaves them out as the self-contained bundle does
 * (`unusedKafkaClientDependencies` in scripts/build-lambda.ts, measured by `npm run bench`).
 *
 *   node scripts/build-layer.ts [--arch arm64|x86_64] [--out <folder>]
 *     -> dist/layer/<arch>/nodejs/node_modules/...   (skipped when already built from the same inputs)
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { build } from 'esbuild'
import { unusedKafkaClientDependencies } from './build-lambda.ts'

const root = resolve(import.meta.dirname, '..')
const run = promisify(execFile)

export const LAYER_PACKAGE = '@platformatic/kafka'
/** The pre-bundled client, inside the package's folder in the layer. */
export const LAYER_BUNDLE_FILE = 'lkc-bundle.mjs'
export type LayerArchitecture = 'arm64' | 'x86_64'

export interface LayerOptions {
  /** Lambda's name for the CPU: `arm64` (default) or `x86_64`. */
  readonly architecture?: LayerArchitecture
  /** Default: dist/layer/<architecture>. */
  readonly outDir?: string
  /** Rebuild even when the folder was built from the same inputs. */
  readonly force?: boolean
}

export interface LayerBuild {
  readonly dir: string
  readonly architecture: LayerArchitecture
  /** The Kafka client version in the layer (the one the project's lockfile installed). */
  readonly version: string
  /** Every package under nodejs/node_modules, scoped ones as `@scope/name`. */
  readonly packages: readonly string[]
  /** The platform package of the native CRC32C, when npm could fetch it; `undefined`: WebAssembly fallback. */
  readonly nativeCrc32Package: string | undefined
  /** False when an earlier build from the same inputs was reused. */
  readonly built: boolean
}

export async function buildLayer(options: LayerOptions = {}): Promise<LayerBuild> {
  const architecture = options.architecture ?? 'arm64'
  if (architecture !== 'arm64' && architecture !== 'x86_64') {
    throw new Error(`--arch must be arm64 or x86_64, not "${architecture}"`)
  }
  const cpu = architecture === 'arm64' ? 'arm64' : 'x64'
  const dir = options.outDir ?? resolve(root, 'dist/layer', architecture)
  const nodejsDir = join(dir, 'nodejs')
  const installed = JSON.parse(
    await readFile(resolve(root, 'node_modules', LAYER_PACKAGE, 'package.json'), 'utf8'),
  ) as { version: string }
  const version = installed.version
  const manifest = {
    name: 'kafka-consumer-lambda-layer',
    private: true,
    description: `The Kafka client for the Lambda function, built for linux-${cpu}`,
    dependencies: { [LAYER_PACKAGE]: version },
  }
  const inputs = createHash('sha256')
    .update(JSON.stringify({ manifest, cpu, bundle: LAYER_BUNDLE_FILE, stubs: await stubsDigest() }))
    .digest('hex')
    .slice(0, 16)
  // Beside the layer folder, not in it: everything in it is shipped to /opt.
  const marker = `${dir}.built`
  const upToDate = existsSync(marker) && (await readFile(marker, 'utf8')).trim() === inputs
  let built = false
  if (options.force || !upToDate || !existsSync(nodejsDir)) {
    await rm(marker, { force: true })
    await rm(dir, { recursive: true, force: true })
    await mkdir(nodejsDir, { recursive: true })
    await writeFile(join(nodejsDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    // --ignore-scripts: the client and its dependencies need no install scripts, and none should
    // run for a platform that is not this machine's.
    await run(
      'npm',
      [
        'install',
        '--omit=dev',
        '--omit=peer',
        '--os=linux',
        `--cpu=${cpu}`,
        '--libc=glibc',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--loglevel=error',
      ],
      { cwd: nodejsDir, env: process.env, maxBuffer: 16 * 1024 * 1024 },
    )
    // npm's bookkeeping is not needed at run time.
    await rm(join(nodejsDir, 'node_modules', '.package-lock.json'), { force: true })
    await bundleClient(join(nodejsDir, 'node_modules', LAYER_PACKAGE))
    await writeFile(marker, `${inputs}\n`)
    built = true
  }

  const packages = await listPackages(join(nodejsDir, 'node_modules'))
  const nativeCrc32Package = packages.find((name) => name === `@node-rs/crc32-linux-${cpu}-gnu`)
  return { dir, architecture, version, packages, nativeCrc32Package, built }
}

/**
 * The installed client as one ES module next to its package.json. The native CRC32C stays a
 * separate package (a per-platform binary, found in the layer's node_modules at run time); the
 * WebAssembly helper is inlined through its `bundled` entry.
 */
async function bundleClient(packageDir: string): Promise<void> {
  const manifest: unknown = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'))
  const entry =
    typeof manifest === 'object' && manifest !== null && 'exports' in manifest ? manifest.exports : undefined
  await build({
    entryPoints: [join(packageDir, typeof entry === 'string' ? entry : 'dist/index.js')],
    outfile: join(packageDir, LAYER_BUNDLE_FILE),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    external: ['@node-rs/crc32'],
    alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
    plugins: [unusedKafkaClientDependencies],
    banner: {
      js: "import { createRequire as __lkcCreateRequire } from 'node:module'; const require = __lkcCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
}

/** The stand-ins change what the bundle contains: a change to them rebuilds the layer. */
async function stubsDigest(): Promise<string> {
  const hash = createHash('sha256')
  const stubs = resolve(root, 'scripts/bundle-stubs')
  for (const file of (await readdir(stubs)).sort())
    hash.update(file).update(await readFile(join(stubs, file)))
  return hash.digest('hex').slice(0, 16)
}

async function listPackages(nodeModules: string): Promise<string[]> {
  const names: string[] = []
  for (const entry of await readdir(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    if (entry.name.startsWith('@')) {
      for (const scoped of await readdir(join(nodeModules, entry.name))) names.push(`${entry.name}/${scoped}`)
    } else {
      names.push(entry.name)
    }
  }
  return names.sort()
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { arch: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
  })
  const layer = await buildLayer({
    architecture: (values.arch ?? 'arm64') as LayerArchitecture,
    ...(values.out && { outDir: resolve(values.out) }),
    force: values.force ?? false,
  })
  process.stdout.write(
    `${layer.built ? 'Built' : 'Up to date:'} the layer ${layer.dir}: ${LAYER_PACKAGE}@${layer.version}, ` +
      `${layer.packages.length} packages, CRC32C ${layer.nativeCrc32Package ? `native (${layer.nativeCrc32Package})` : 'WebAssembly fallback'}\n`,
  )
}
