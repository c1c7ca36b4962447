/**
 * The construct's bundle of a team's `entry`: split so that a cold start loads only what the
 * configuration uses, NodejsFunction's esbuild settings honoured, the ones it cannot honour
 * refused at synthesis with the way out.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundleEntry, entryBuildOptions, esbuildArgsToOptions } from '../../infra/entry-bundle.ts'
import { InvalidConstructPropError } from '../../infra/errors.ts'

const ORDERS_ENTRY = resolve(import.meta.dirname, 'fixtures/orders-handler.ts')
/** Strings only the Avro and the Protobuf libraries hold (their own error messages). */
const AVSC_MARKER = 'undefined type name'
const PROTOBUF_MARKER = 'no such type'

/** The files a module loads before it runs: itself and its static imports, transitively. */
function loadedAtImport(dir: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  const code = readFileSync(join(dir, file), 'utf8')
  for (const match of code.matchAll(/(?:^|[;\s}])import(?:[^"'()]*?from)?\s*"\.\/(?:chunks\/)?([^"]+)"/g)) {
    const imported = file.startsWith('chunks/')
      ? `chunks/${match[1]}`
      : `chunks/${match[1]!.replace(/^chunks\//, '')}`
    loadedAtImport(dir, imported, seen)
  }
  return seen
}

describe('bundleEntry', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'lkc-entry-bundle-'))
  bundleEntry({ entry: ORDERS_ENTRY, outdir })

  it("splits off the registry formats' libraries: a cold start with JSON values loads none of them", () => {
    const chunks = readdirSync(join(outdir, 'chunks')).filter((name) => name.endsWith('.mjs'))
    const all = chunks.map((name) => readFileSync(join(outdir, 'chunks', name), 'utf8')).join('\n')
    // They are in the bundle...
    expect(all).toContain(AVSC_MARKER)
    expect(all).toContain(PROTOBUF_MARKER)
    // ...but not in what index.mjs loads before it runs.
    const loaded = [...loadedAtImport(outdir, 'index.mjs')]
    expect(loaded.length).toBeGreaterThan(1)
    const atImport = loaded.map((file) => readFileSync(join(outdir, file), 'utf8')).join('\n')
    expect(atImport).toContain('has no quantity')
    expect(atImport).not.toContain(AVSC_MARKER)
    expect(atImport).not.toContain(PROTOBUF_MARKER)
  })

  it('gives every ES module output a require for the dependencies that still call it', () => {
    for (const file of loadedAtImport(outdir, 'index.mjs')) {
      expect(readFileSync(join(outdir, file), 'utf8')).toContain('__lkcCreateRequire(import.meta.url)')
    }
  })

  it("honours NodejsFunction's esbuild settings: minify, define, banner, footer, metafile", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lkc-entry-settings-'))
    const entry = join(dir, 'entry.ts')
    writeFileSync(entry, 'export const handler = async () => ({ value: process.env.LKC_TEST_VALUE })\n')
    const out = join(dir, 'out')

    bundleEntry({
      entry,
      outdir: out,
      projectRoot: dir,
      bundling: {
        minify: false,
        sourceMap: false,
        define: { 'process.env.LKC_TEST_VALUE': '"defined at build"' },
        banner: '// team banner',
        footer: '// team footer',
        metafile: true,
        esbuildArgs: { '--legal-comments': 'none' },
      },
    })

    const code = readFileSync(join(out, 'index.mjs'), 'utf8')
    expect(code).toContain('"defined at build"')
    expect(code).toContain('// team banner')
    expect(code).toContain('// team footer')
    // Not minified: the names and the layout as written.
    expect(code).toContain('// entry.ts\nvar handler = ')
    expect(readdirSync(out)).not.toContain('index.mjs.map')
    expect(JSON.parse(readFileSync(join(out, 'index.meta.json'), 'utf8'))).toHaveProperty('outputs')
  })
})

describe('entryBuildOptions', () => {
  const base = { entry: ORDERS_ENTRY, outdir: '/tmp/out', kafkaClient: '/tmp/kafka.mjs', projectRoot: '/tmp' }

  it.each([
    ['nodeModules', { nodeModules: ['sharp'] }, 'put them in a layer of yours'],
    [
      'commandHooks',
      { commandHooks: { beforeBundling: () => [], afterBundling: () => [], beforeInstall: () => [] } },
      'pass code',
    ],
    ['preCompilation', { preCompilation: true }, 'esbuild strips the types itself'],
    ['forceDockerBundling', { forceDockerBundling: true }, 'bundles locally'],
  ])('refuses %s, which needs NodejsFunction, naming the way out', (setting, bundling, fix) => {
    expect(() => entryBuildOptions({ ...base, bundling })).toThrow(InvalidConstructPropError)
    expect(() => entryBuildOptions({ ...base, bundling })).toThrow(`Invalid bundling.${setting}`)
    expect(() => entryBuildOptions({ ...base, bundling })).toThrow(fix)
  })

  it('refuses an esbuild flag that would change what is built or where it goes', () => {
    expect(() => entryBuildOptions({ ...base, bundling: { esbuildArgs: { '--outfile': 'x.js' } } })).toThrow(
      'Invalid bundling.esbuildArgs: "--outfile"',
    )
  })

  it('keeps the Kafka client out (from the layer), whatever the alias flags say, and splits into chunks/', () => {
    const options = entryBuildOptions({
      ...base,
      bundling: { esbuildArgs: { '--alias': '@platformatic/kafka=./x' } },
    })

    expect(options.alias).toEqual({ '@platformatic/kafka': '/tmp/kafka.mjs' })
    expect(options).toMatchObject({
      splitting: true,
      format: 'esm',
      outdir: '/tmp/out',
      chunkNames: 'chunks/[name]-[hash]',
    })
  })
})

describe('esbuildArgsToOptions', () => {
  it("reads NodejsFunction's flags as esbuild's JS options", () => {
    expect(
      esbuildArgsToOptions({
        '--alias': 'lodash=lodash-es',
        '--alias:left-pad': 'pad',
        '--define:DEBUG': 'false',
        '--log-limit': '0',
        '--legal-comments': 'none',
        '--tree-shaking': true,
        '--ignore-annotations': '',
        '--keep-names': false,
        '--drop': 'console',
        '--external:sharp': true,
        '--conditions': 'worker,node',
      }),
    ).toEqual({
      alias: { lodash: 'lodash-es', 'left-pad': 'pad' },
      define: { DEBUG: 'false' },
      logLimit: 0,
      legalComments: 'none',
      treeShaking: true,
      ignoreAnnotations: true,
      drop: ['console'],
      external: ['sharp'],
      conditions: ['worker', 'node'],
    })
  })

  it('refuses a key that is not a flag', () => {
    expect(() => esbuildArgsToOptions({ minify: true })).toThrow('Invalid bundling.esbuildArgs: "minify"')
  })
})
