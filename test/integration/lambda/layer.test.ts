/**
 * The deployable artifacts as Lambda runs them: the layer's layout, and the bundled handler in a
 * separate Node.js 24 process that finds the Kafka client only through the layer. As in Lambda, the
 * bundle sits alone in a "task" folder, the layer is unpacked into an "/opt"-like folder, and
 * NODE_PATH lists the layer's folders the way Lambda's nodejs24.x bootstrap does. One invocation
 * consumes from the real broker and saves its offsets in the real DynamoDB API server.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { bundleLambda } from '../../../scripts/build-lambda.ts'
import { buildLayer, type LayerBuild } from '../../../scripts/build-layer.ts'
import { consumerEnv, freshTopic, numberedMessages, produce, storedItems } from '../../support/services.ts'

const root = resolve(import.meta.dirname, '../../..')
const hostArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64'
const installedKafkaVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules/@platformatic/kafka/package.json'), 'utf8')) as {
    version: string
  }
).version

let work: string
let hostLayer: LayerBuild
let arm64Layer: LayerBuild
let task: string
let bundleInputs: string[]

/** What Lambda's runtime does: import the handler module, call `handler(event, context)`, report. */
const RUNNER = `
import { writeFileSync } from 'node:fs'
const { handler } = await import(process.env.HANDLER_MODULE)
try {
  const report = await handler({}, { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'test' })
  writeFileSync(process.env.REPORT_FILE, JSON.stringify(report))
} finally {
  await handler.close()
}
`

function invoke(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string; report?: { count: number } }> {
  const reportFile = join(work, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.json`)
  const runner = join(work, 'runner.mjs')
  writeFileSync(runner, RUNNER)
  return new Promise((resolveResult) => {
    execFile(
      process.execPath,
      [runner],
      {
        cwd: task,
        // Only what Lambda would give: no PATH to the project, no node_modules above the task folder.
        env: { HOME: tmpdir(), HANDLER_MODULE: join(task, 'index.mjs'), REPORT_FILE: reportFile, ...env },
        timeout: 60_000,
      },
      (error, _stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        const report = existsSync(reportFile)
          ? (JSON.parse(readFileSync(reportFile, 'utf8')) as { count: number })
          : undefined
        resolveResult({ code, stderr, ...(report && { report }) })
      },
    )
  })
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lkc-lambda-'))
  task = join(work, 'task')
  await mkdir(task)
  // The layer for this machine (to run it) and for arm64, the default (to inspect it).
  hostLayer = await buildLayer({ architecture: hostArchitecture, outDir: join(work, 'opt') })
  arm64Layer =
    hostArchitecture === 'arm64'
      ? hostLayer
      : await buildLayer({ architecture: 'arm64', outDir: join(work, 'arm64') })
  const bundle = await bundleLambda({ outfile: join(task, 'index.mjs') })
  bundleInputs = Object.keys(bundle.metafile.inputs)
}, 180_000)

describe('the Lambda layer', () => {
  it('holds the installed Kafka client, bundled with its dependencies, and the native CRC32C, nothing else', () => {
    expect(readdirSync(arm64Layer.dir)).toEqual(['nodejs'])
    const kafka = JSON.parse(
      readFileSync(join(arm64Layer.dir, 'nodejs/node_modules/@platformatic/kafka/package.json'), 'utf8'),
    ) as { version: string; exports: string; dependencies?: unknown }
    expect(kafka.version).toBe(installedKafkaVersion)
    expect(arm64Layer.version).toBe(installedKafkaVersion)
    // Its dependencies are inside the bundle, which its manifest points at.
    expect(kafka.exports).toBe('./lkc-bundle.mjs')
    expect(kafka.dependencies).toBeUndefined()
    expect(arm64Layer.packages).toEqual([
      '@node-rs/crc32',
      '@node-rs/crc32-linux-arm64-gnu',
      '@platformatic/kafka',
    ])
  })

  it("carries the native CRC32C for Lambda's arm64 (Amazon Linux, glibc), fetched whatever machine builds it", () => {
    expect(arm64Layer.nativeCrc32Package).toBe('@node-rs/crc32-linux-arm64-gnu')
    const binaries = readdirSync(join(arm64Layer.dir, 'nodejs/node_modules/@node-rs/crc32-linux-arm64-gnu'))
    expect(binaries.filter((file) => file.endsWith('.node'))).toEqual(['crc32.linux-arm64-gnu.node'])
    expect(arm64Layer.packages).not.toContain('@node-rs/crc32-linux-x64-gnu')
  })

  it('carries the client pre-bundled beside its package, without the option-schema compiler', () => {
    const bundled = readFileSync(
      join(arm64Layer.dir, 'nodejs/node_modules/@platformatic/kafka/lkc-bundle.mjs'),
      'utf8',
    )

    // The stand-in for ajv (infra/kafka-client-layer/stubs/ajv.ts) is in, the real compiler is not.
    expect(bundled).toContain('option validation is left out of this bundle')
    expect(bundled).not.toContain('strictKeywords')
    // The native CRC32C stays a package of its own, for the layer's architecture.
    expect(bundled).toContain('@node-rs/crc32')
  })

  it('keeps the Kafka client out of the bundle', () => {
    expect(bundleInputs.some((input) => input.includes('node_modules/@platformatic/kafka/'))).toBe(false)
    expect(bundleInputs.some((input) => input.includes('src/lambda/import-from-layer.ts'))).toBe(true)
  })
})

describe('the bundled handler, run as Lambda runs it', () => {
  it('consumes with the Kafka client from the layer on NODE_PATH, and saves the offsets', async () => {
    // Prepare
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(30, 2))
    const opt = hostLayer.dir
    const nodePath = [join(opt, 'nodejs/node24/node_modules'), join(opt, 'nodejs/node_modules')].join(':')

    // Act
    const first = await invoke({ NODE_PATH: nodePath, ...consumerEnv(topic) })
    const second = await invoke({ NODE_PATH: nodePath, ...consumerEnv(topic) })

    // Assess
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.report?.count).toBe(30)
    expect(second.report?.count).toBe(0)
    const items = await storedItems(`lambda-consumer-group_${topic}`)
    expect(items.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 14 },
      { partition: 1, offset: 14 },
    ])
  })

  it('fails with a clear error when the layer is not attached', async () => {
    const topic = await freshTopic(1)
    const result = await invoke({ ...consumerEnv(topic) })
    expect(result.code).not.toBe(0)
    expect(result.report).toBeUndefined()
    expect(result.stderr).toContain('LayerPackageNotFoundError')
    expect(result.stderr).toContain('Package "@platformatic/kafka" was not found')
  })
})
