/**
 * How the bundle finds the layer's packages: NODE_PATH folders, each package's ES entry, and a
 * clear error when the layer is missing. Fixture packages live in a temporary folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LayerPackageNotFoundError } from '../../../src/lambda/errors.ts'
import { esEntryOf, importFromLayer } from '../../../src/lambda/import-from-layer.ts'

function fixtureLayer(name: string, manifest: object, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'lkc-layer-'))
  const packageDir = join(root, 'nodejs/node_modules', name)
  mkdirSync(packageDir, { recursive: true })
  writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name, type: 'module', ...manifest }))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(packageDir, file, '..'), { recursive: true })
    writeFileSync(join(packageDir, file), text)
  }
  return join(root, 'nodejs/node_modules')
}

describe('esEntryOf', () => {
  it.each([
    [{ exports: './dist/index.js' }, './dist/index.js'],
    [{ exports: { '.': './dist/main.js', './extra': './dist/extra.js' } }, './dist/main.js'],
    [
      { exports: { '.': { types: './x.d.ts', import: './esm/index.js', require: './cjs/index.cjs' } } },
      './esm/index.js',
    ],
    [{ exports: { node: { import: './node.mjs' }, default: './browser.js' } }, './node.mjs'],
    [{ main: 'lib/index.js' }, 'lib/index.js'],
    [{}, 'index.js'],
  ])('picks the ES entry of %j', (manifest, entry) => {
    expect(esEntryOf(manifest)).toBe(entry)
  })
})

describe('importFromLayer', () => {
  it('imports a package found only in a NODE_PATH folder, through its exports', async () => {
    const layer = fixtureLayer(
      'lkc-fixture-exports',
      { exports: './dist/index.js' },
      {
        'dist/index.js': 'export const where = "layer"; export default 42\n',
      },
    )
    const module = await importFromLayer('lkc-fixture-exports', {
      NODE_PATH: ['/nonexistent', layer].join(delimiter),
    })
    expect(module.where).toBe('layer')
    expect(module.default).toBe(42)
  })

  it("loads the layer's pre-bundled lkc-bundle.mjs when the package has one", async () => {
    const layer = fixtureLayer(
      'lkc-fixture-bundled',
      { exports: './dist/index.js' },
      {
        'dist/index.js': 'export const where = "package entry"\n',
        'lkc-bundle.mjs': 'export const where = "pre-bundled"\n',
      },
    )

    const module = await importFromLayer('lkc-fixture-bundled', { NODE_PATH: layer })

    expect(module.where).toBe('pre-bundled')
  })

  it('says where it looked when no NODE_PATH folder has the package', async () => {
    const layer = fixtureLayer('lkc-fixture-other', {}, { 'index.js': 'export {}\n' })
    const attempt = importFromLayer('lkc-fixture-missing', { NODE_PATH: layer })
    await expect(attempt).rejects.toBeInstanceOf(LayerPackageNotFoundError)
    await expect(attempt).rejects.toThrow(join(layer, 'lkc-fixture-missing'))
    await expect(importFromLayer('lkc-fixture-missing', {})).rejects.toThrow('NODE_PATH is empty')
  })

  it('prefers a package resolvable beside the code (node_modules) over the layer, as require does', async () => {
    const layer = fixtureLayer('zod', { exports: './index.js' }, { 'index.js': 'export const fake = true\n' })
    const module = await importFromLayer('zod', { NODE_PATH: layer })
    expect(module.fake).toBeUndefined()
    expect(typeof module.z).toBe('object')
  })
})
