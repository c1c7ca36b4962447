/**
 * Loads, from the ES module bundle, a package that the function's Lambda layer provides.
 *
 * Why it exists: Lambda unpacks a layer into /opt and its Node.js runtimes put
 * /opt/nodejs/node24/node_modules and /opt/nodejs/node_modules in NODE_PATH. Only CommonJS
 * `require` reads NODE_PATH; Node's ES module resolution never does (the Node.js docs, "No
 * NODE_PATH"). Lambda's runtimes since Node.js 18 add their own NODE_PATH search for `import`, but
 * that is Lambda's patch, not Node's behaviour: nothing outside Lambda reproduces it, so a bundle
 * relying on it could not be tested. This loader follows NODE_PATH itself and imports the package's
 * ES entry by file URL: the same code path in Lambda, in tests and on a laptop.
 *
 * Bundling routes `import ... from '@platformatic/kafka'` here (the construct's esbuild alias,
 * infra/kafka-client-layer/kafka-client-layer.ts, and scripts/build-lambda.ts), so the source code
 * keeps ordinary imports. When the package's folder in the layer holds a pre-bundled
 * `lkc-bundle.mjs` (infra/kafka-client-layer/build-kafka-client-layer.ts makes one: the
 * client without the option schemas it would compile at import), that file is loaded instead.
 */
import { existsSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LayerPackageNotFoundError } from './errors.ts'

type Module = Record<string, unknown>

/** The pre-bundled client in the layer (kept in step with infra/kafka-client-layer/build-kafka-client-layer.ts). */
const LAYER_BUNDLE_FILE = 'lkc-bundle.mjs'

/**
 * Standard resolution first (a `node_modules` shipped beside the bundle wins, as it does for
 * `require`), then each NODE_PATH folder in order.
 */
export async function importFromLayer(packageName: string, env = process.env): Promise<Module> {
  try {
    return (await import(packageName)) as Module
  } catch (error) {
    if (!isNotFound(error, packageName)) throw error
  }
  const searched: string[] = []
  for (const folder of (env.NODE_PATH ?? '').split(delimiter).filter((entry) => entry.length > 0)) {
    const packageDir = join(folder, packageName)
    searched.push(packageDir)
    const manifestPath = join(packageDir, 'package.json')
    if (!existsSync(manifestPath)) continue
    const bundled = join(packageDir, LAYER_BUNDLE_FILE)
    if (existsSync(bundled)) return (await import(pathToFileURL(bundled).href)) as Module
    const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'))
    return (await import(pathToFileURL(join(packageDir, esEntryOf(manifest))).href)) as Module
  }
  throw new LayerPackageNotFoundError(packageName, searched)
}

/** True when the error says that this very package (not one of its dependencies) is missing. */
function isNotFound(error: unknown, packageName: string): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    error.code === 'ERR_MODULE_NOT_FOUND' &&
    error.message.includes(`'${packageName}'`)
  )
}

/**
 * The file an `import` of the package's root loads: `exports` (a path, or `.` with the `node`,
 * `import` or `default` condition), else `main`, else index.js.
 */
export function esEntryOf(manifest: unknown): string {
  if (typeof manifest !== 'object' || manifest === null) return 'index.js'
  const { exports, main } = manifest as { exports?: unknown; main?: unknown }
  const root =
    typeof exports === 'object' && exports !== null && '.' in exports
      ? (exports as Record<string, unknown>)['.']
      : exports
  const entry = pickCondition(root)
  if (entry !== undefined) return entry
  return typeof main === 'string' ? main : 'index.js'
}

function pickCondition(target: unknown): string | undefined {
  if (typeof target === 'string') return target
  if (typeof target !== 'object' || target === null) return undefined
  const conditions = target as Record<string, unknown>
  for (const condition of ['node', 'import', 'default']) {
    if (condition in conditions) {
      const picked = pickCondition(conditions[condition])
      if (picked !== undefined) return picked
    }
  }
  return undefined
}
