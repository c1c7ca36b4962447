/**
 * The registry formats in the self-contained Lambda bundle: their code (avsc, protobufjs, ajv,
 * the Glue client) is split into chunks the JSON path never loads, and the chunks work: an
 * Avro value through the Confluent-compatible test registry, decoded by the real avsc (the
 * Kafka client's own import of it stays stubbed).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import avro from 'avsc'
import type { Metafile } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleLambda } from '../../../scripts/build-lambda.ts'
import { produceBytes } from '../../support/produce-bytes.ts'
import {
  confluentFramed,
  startTestSchemaRegistry,
  type TestSchemaRegistry,
} from '../../support/schema-registry.ts'
import { consumerEnv, freshTopic } from '../../support/services.ts'

type HandlerModule = typeof import('../../../src/lambda/handler.ts')

const root = resolve(import.meta.dirname, '../../..')
let directory: string
let outfile: string
let metafile: Metafile
let registry: TestSchemaRegistry

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'lkc-bundle-formats-'))
  ;({ outfile, metafile } = await bundleLambda({
    selfContained: true,
    outfile: join(directory, 'index.mjs'),
  }))
  registry = await startTestSchemaRegistry()
}, 120_000)

afterAll(async () => {
  await registry.stop()
  await rm(directory, { recursive: true, force: true })
})

/** The inputs of the files a cold start loads: the handler and the chunks it imports statically. */
function loadedAtColdStart(): string[] {
  const outputs = new Map(
    Object.entries(metafile.outputs).map(([path, output]) => [resolve(root, path), output]),
  )
  const seen = new Set<string>()
  const visit = (path: string) => {
    const output = outputs.get(path)
    if (output === undefined || seen.has(path)) return
    seen.add(path)
    for (const imported of output.imports)
      if (imported.kind === 'import-statement') visit(resolve(root, imported.path))
  }
  visit(resolve(outfile))
  return [...seen].flatMap((path) => Object.keys(outputs.get(path)!.inputs))
}

describe('the registry formats in the Lambda bundle', () => {
  it('are left out of what the JSON path loads', () => {
    const inputs = loadedAtColdStart()

    expect(inputs.some((input) => input.includes('src/lambda/handler.ts'))).toBe(true)
    for (const lazy of [
      'node_modules/avsc/',
      'node_modules/protobufjs/',
      'node_modules/ajv/',
      'client-glue',
      'src/processing/registry/',
    ]) {
      expect(
        inputs.filter((input) => input.includes(lazy)),
        lazy,
      ).toEqual([])
    }
  })

  it('decode an Avro value through the registry with the real avsc', async () => {
    const topic = await freshTopic(1)
    const schema = { type: 'record', name: 'Reading', fields: [{ name: 'celsius', type: 'double' }] }
    const id = await registry.register(`${topic}-value`, JSON.stringify(schema), 'AVRO')
    const type = avro.Type.forSchema(schema as avro.Schema)
    await produceBytes(topic, [{ value: confluentFramed(id, type.toBuffer({ celsius: 21.5 })) }])
    const bundled = (await import(pathToFileURL(outfile).href)) as HandlerModule
    const values: unknown[] = []
    const handler = bundled.createHandler({
      env: consumerEnv(topic, {
        VALUE_FORMAT: 'avro',
        SCHEMA_REGISTRY: 'confluent',
        SCHEMA_REGISTRY_URL: registry.url,
      }),
      process: (message) => void values.push(message.value),
    })

    try {
      await handler({}, { getRemainingTimeInMillis: () => 60_000 })
    } finally {
      await handler.close()
    }

    expect(values).toEqual([{ celsius: 21.5 }])
  })
})
