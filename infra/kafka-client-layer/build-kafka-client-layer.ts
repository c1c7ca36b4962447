/**
 * Builds the Lambda layer that carries the Kafka client, from the `@platformatic/kafka` installed
 * beside this package (found with Node's own resolution, so it works wherever npm put it, hoisted
 * or not): the client pre-bundled into one ES module, `lkc-bundle.mjs`, under
 * `nodejs/node_modules/@platformatic/kafka/` (the folder Lambda's Node.js runtimes list in
 * NODE_PATH), and the native CRC32C for Amazon Linux on the chosen CPU.
 *
 * The bundle leaves out what the function never runs (the option-schema compiler `ajv`, compiled
 * at import for about half of a cold start's import time, and Avro's `avsc`: see ./stubs) and
 * inlines the WebAssembly helper through its `bundled` entry. The native CRC32C (`@node-rs/crc32`)
 * ships one binary per platform: npm is asked for Amazon Linux's (`--os linux --cpu <arm64|x64>
 * --libc glibc`), whatever machine builds the layer; when npm cannot fetch it, the client falls
 * back to its WebAssembly CRC32C, slower but correct, and the build says so.
 *
 * Builds are cached by their inputs (client version, CPU, this builder and its stubs) in the
 * system's temporary folder. Run by the construct at synthesis in a child process, and by the
 * repository's scripts:
 *
 *   node build-kafka-client-layer.ts --arch arm64|x86_64 --out <folder>
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import type { Plugin } from 'esbuild'

const run = promisify(execFile)

export const LAYER_PACKAGE = '@platformatic/kafka'
/** The pre-bundled client, inside the package's folder in the layer (src/lambda/import-from-layer.ts loads it). */
export const LAYER_BUNDLE_FILE = 'lkc-bundle.mjs'
export type LayerArchitecture = 'arm64' | 'x86_64'

/** `.ts` when running from the repository's source, `.js` from the installed package. */
const ownExtension = extname(fileURLToPath(import.meta.url))
const stubsDir = fileURLToPath(new URL('./stubs/', import.meta.url))

/**
 * Replaces dependencies of @platformatic/kafka that the function never runs with small
 * stand-ins (./stubs): its option-validation schemas (ajv), and Avro (avsc) for a schema
 * registry the client would use. Measured by `npm run bench`.
 */
export const unusedKafkaClientDependencies: Plugin = {
  name: 'lkc-unused-kafka-client-dependencies',
  setup(builder) {
    // Only the client's own imports: VALUE_FORMAT=avro and json-schema use the real avsc and ajv
    // (in a bundle that holds both, the self-contained one).
    const fromKafkaClient = (importer: string) =>
      /[\\/]node_modules[\\/]@platformatic[\\/]kafka[\\/]/.test(importer)
    builder.onResolve({ filter: /^(ajv|ajv-draft-04|ajv\/dist\/2020(\.js)?)$/ }, (args) =>
      fromKafkaClient(args.importer) ? { path: join(stubsDir, `ajv${ownExtension}`) } : undefined,
    )
    builder.onResolve({ filter: /^avsc$/ }, (args) =>
      fromKafkaClient(args.importer) ? { path: join(stubsDir, `avsc${ownExtension}`) } : undefined,
    )
  },
}

export interface InstalledKafkaClient {
  /** The package's folder, wherever npm installed it. */
  readonly dir: string
  readonly version: string
  /** Its ES entry, absolute. */
  readonly entry: string
}

/** The @platformatic/kafka that this package's own code imports (Node's resolution from here). */
export function installedKafkaClient(): InstalledKafkaClient {
  const require = createRequire(import.meta.url)
  const entry = require.resolve(LAYER_PACKAGE)
  // Its `exports` does not export package.json: walk up from the entry to the package's folder.
  let dir = dirname(entry)
  while (!isPackageFolder(dir, LAYER_PACKAGE)) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`Cannot find the package folder of ${LAYER_PACKAGE} above ${entry}`)
    dir = parent
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }
  return { dir, version: manifest.version, entry }
}

function isPackageFolder(dir: string, name: string): boolean {
  const manifestPath = join(dir, 'package.json')
  if (!existsSync(manifestPath)) return false
  return (JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string }).name === name
}

export interface LayerOptions {
  /** Lambda's name for the CPU. @default 'arm64' */
  readonly architecture?: LayerArchitecture
  /** The folder to fill (it gets `nodejs/`). */
  readonly outDir: string
  /** Rebuild even when a build from the same inputs is cached. */
  readonly force?: boolean
}

export interface LayerBuild {
  readonly dir: string
  readonly architecture: LayerArchitecture
  /** The Kafka client version in the layer: the installed one. */
  readonly version: string
  /** Every package under nodejs/node_modules, scoped ones as `@scope/name`. */
  readonly packages: readonly string[]
  /** The platform package of the native CRC32C, when npm could fetch it; `undefined`: WebAssembly fallback. */
  readonly nativeCrc32Package: string | undefined
  /** False when a cached build from the same inputs was copied. */
  readonly built: boolean
}

/** What a build depends on; a change to any of them makes a new layer (and a new asset hash). */
export function layerInputsHash(architecture: LayerArchitecture, client = installedKafkaClient()): string {
  const hash = createHash('sha256').update(JSON.stringify({ version: client.version, architecture }))
  hash.update(readFileSync(fileURLToPath(import.meta.url)))
  for (const stub of ['ajv', 'avsc']) hash.update(readFileSync(join(stubsDir, `${stub}${ownExtension}`)))
  return hash.digest('hex').slice(0, 20)
}

export async function buildKafkaClientLayer(options: LayerOptions): Promise<LayerBuild> {
  const architecture = options.architecture ?? 'arm64'
  if (architecture !== 'arm64' && architecture !== 'x86_64') {
    throw new Error(`The layer's architecture must be arm64 or x86_64, not "${String(architecture)}"`)
  }
  const cpu = architecture === 'arm64' ? 'arm64' : 'x64'
  const client = installedKafkaClient()
  const cache = join(tmpdir(), 'lambda-kafka-consumer', 'layers', layerInputsHash(architecture, client))
  const complete = join(cache, '.complete')
  let built = false
  if (options.force || !existsSync(complete)) {
    await rm(cache, { recursive: true, force: true })
    await mkdir(dirname(cache), { recursive: true })
    // Built beside the cache, then moved in: a build killed half-way leaves no half layer.
    const staging = await mkdtemp(`${cache}-`)
    await fill(staging, client, cpu)
    await rm(cache, { recursive: true, force: true })
    await cp(staging, cache, { recursive: true })
    await rm(staging, { recursive: true, force: true })
    await writeFile(complete, `${new Date().toISOString()}\n`)
    built = true
  }
  await rm(options.outDir, { recursive: true, force: true })
  await mkdir(options.outDir, { recursive: true })
  await cp(join(cache, 'nodejs'), join(options.outDir, 'nodejs'), { recursive: true })
  const packages = await listPackages(join(options.outDir, 'nodejs/node_modules'))
  const nativeCrc32Package = packages.find((name) => name === `@node-rs/crc32-linux-${cpu}-gnu`)
  return { dir: options.outDir, architecture, version: client.version, packages, nativeCrc32Package, built }
}

async function fill(dir: string, client: InstalledKafkaClient, cpu: 'arm64' | 'x64'): Promise<void> {
  const nodeModules = join(dir, 'nodejs/node_modules')
  const packageDir = join(nodeModules, LAYER_PACKAGE)
  await mkdir(packageDir, { recursive: true })
  const manifest = JSON.parse(await readFile(join(client.dir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >
  // Everything but the native CRC32C is inside the bundle: the manifest points at it.
  const {
    dependencies: _inlined,
    devDependencies: _dev,
    scripts: _scripts,
    files: _files,
    ...kept
  } = manifest
  await writeFile(
    join(packageDir, 'package.json'),
    `${JSON.stringify({ ...kept, exports: `./${LAYER_BUNDLE_FILE}`, main: `./${LAYER_BUNDLE_FILE}` }, null, 2)}\n`,
  )
  for (const file of ['LICENSE', 'README.md']) {
    if (existsSync(join(client.dir, file))) await cp(join(client.dir, file), join(packageDir, file))
  }
  const { build } = await import('esbuild')
  await build({
    // Aliases resolve from the client's own folder, wherever npm put it.
    absWorkingDir: client.dir,
    entryPoints: [client.entry],
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
    // Some dependencies still `require()` Node built-ins; give the ES module a `require`.
    banner: {
      js: "import { createRequire as __lkcCreateRequire } from 'node:module'; const require = __lkcCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  await addNativeCrc32(nodeModules, client, cpu)
}

/** `@node-rs/crc32` and its Amazon Linux binary for `cpu`, from npm; on failure, the WebAssembly fallback. */
async function addNativeCrc32(nodeModules: string, client: InstalledKafkaClient, cpu: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(client.dir, 'package.json'), 'utf8')) as {
    optionalDependencies?: Record<string, string>
  }
  const version =
    installedVersion('@node-rs/crc32', client.dir) ?? manifest.optionalDependencies?.['@node-rs/crc32']
  if (version === undefined) return
  const work = await mkdtemp(join(tmpdir(), 'lkc-crc32-'))
  try {
    await writeFile(join(work, 'package.json'), '{"name":"lkc-crc32","private":true}\n')
    // --ignore-scripts: none is needed, and none should run for a platform that is not this machine's.
    await run(
      'npm',
      [
        'install',
        `@node-rs/crc32@${version}`,
        '--no-save',
        '--no-package-lock',
        '--os=linux',
        `--cpu=${cpu}`,
        '--libc=glibc',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        '--loglevel=error',
      ],
      { cwd: work, maxBuffer: 16 * 1024 * 1024 },
    )
    await cp(join(work, 'node_modules/@node-rs'), join(nodeModules, '@node-rs'), { recursive: true })
  } catch (error) {
    process.stderr.write(
      `lambda-kafka-consumer: the Kafka client layer has no native CRC32C for linux-${cpu} (npm could not install ` +
        `@node-rs/crc32@${version}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}); ` +
        'the client uses its WebAssembly CRC32C instead, slower but correct.\n',
    )
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function installedVersion(name: string, fromDir: string): string | undefined {
  try {
    const require = createRequire(join(fromDir, 'package.json'))
    let dir = dirname(require.resolve(name))
    while (!isPackageFolder(dir, name)) {
      const parent = dirname(dir)
      if (parent === dir) return undefined
      dir = parent
    }
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return undefined
  }
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
  if (values.out === undefined) throw new Error('--out <folder> is required')
  const layer = await buildKafkaClientLayer({
    architecture: (values.arch ?? 'arm64') as LayerArchitecture,
    outDir: resolve(values.out),
    force: values.force ?? false,
  })
  process.stderr.write(
    `${layer.built ? 'Built' : 'Reused'} the Kafka client layer in ${layer.dir}: ${LAYER_PACKAGE}@${layer.version}, ` +
      `CRC32C ${layer.nativeCrc32Package ? `native (${layer.nativeCrc32Package})` : 'WebAssembly fallback'}\n`,
  )
}
