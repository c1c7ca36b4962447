/**
 * The bundled handler, as Lambda loads it: the self-contained bundle (Kafka client inlined,
 * its unused dependencies stubbed) consumes and saves offsets like the source does.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleLambda } from '../../../scripts/build-lambda.ts'
import { consumerEnv, freshTopic, numberedMessages, produce, storedItems } from '../../support/services.ts'

type HandlerModule = typeof import('../../../src/lambda/default-handler.ts')

let directory: string
let bundled: HandlerModule

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'lkc-bundle-'))
  const { outfile } = await bundleLambda({ selfContained: true, outfile: join(directory, 'index.mjs') })
  bundled = (await import(pathToFileURL(outfile).href)) as HandlerModule
})

afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

describe('the self-contained Lambda bundle', () => {
  it('consumes every message once and saves the offsets', async () => {
    // Prepare
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(50, 2))
    const values: unknown[] = []
    const handler = bundled.createHandler({
      env: consumerEnv(topic),
      process: (message) => void values.push(message.value),
    })
    const context = { getRemainingTimeInMillis: () => 60_000 }

    // Act
    const first = await handler({}, context)
    const second = await handler({}, context)
    await handler.close()
    const items = await storedItems(`lambda-consumer-group_${topic}`)

    // Assess
    expect(first.count).toBe(50)
    expect(second.count).toBe(0)
    expect(new Set(values.map((value) => (value as { index: number }).index)).size).toBe(50)
    expect(items.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 24 },
      { partition: 1, offset: 24 },
    ])
  })
})
