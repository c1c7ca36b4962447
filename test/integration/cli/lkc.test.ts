/** `lkc` as a separate process against the real broker and DynamoDB API server. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { lkc } from '../../support/cli.ts'
import { consumerEnv, freshTopic, numberedMessages, produce, storedItems } from '../../support/services.ts'

describe('lkc', () => {
  it('run: consumes once, prints the summary and exits 0; again with nothing new', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(7, 2))
    const env = consumerEnv(topic, { LOG_LEVEL: 'INFO' })

    const first = await lkc(['run'], env)
    const second = await lkc(['run'], env)

    expect(first.code).toBe(0)
    expect(first.stderr).toContain(`Run summary: 7 message(s) from ${topic}`)
    expect(first.stderr).toContain('partition 0: 0..3 (4 processed, lag 0)')
    expect(first.stderr).toContain(`Processed message topic=${topic} partition=1 offset=2`)
    expect(second.code).toBe(0)
    expect(second.stderr).toContain('Run summary: 0 message(s)')
    expect(second.stderr).toContain('every partition up to date')
  })

  it('run --handler: invokes the processor of a TypeScript module of its own, with the terminal logger', async () => {
    // Prepare: a module as a team writes it, outside this repository's folders.
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(5, 2))
    const folder = mkdtempSync(join(tmpdir(), 'lkc-handler-'))
    const seenFile = join(folder, 'seen.jsonl')
    const entry = pathToFileURL(resolve(import.meta.dirname, '../../../src/index.ts')).href
    writeFileSync(
      join(folder, 'my-handler.ts'),
      [
        `import { appendFileSync } from 'node:fs'`,
        `import { createHandler, type KafkaMessage } from ${JSON.stringify(entry)}`,
        `interface Sample { readonly index: number }`,
        `export async function record(message: KafkaMessage<Sample>): Promise<void> {`,
        `  appendFileSync(${JSON.stringify(seenFile)}, JSON.stringify({ offset: message.offset, index: message.value.index }) + '\\n')`,
        `}`,
        `export const handler = createHandler<Sample>({ process: record })`,
      ].join('\n'),
    )

    // Act
    const result = await lkc(
      ['run', '--handler', join(folder, 'my-handler.ts')],
      consumerEnv(topic, { LOG_LEVEL: 'INFO' }),
    )

    // Assess: its processor saw every message; the terminal logger printed the summary.
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`Run summary: 5 message(s) from ${topic}`)
    expect(result.stderr).not.toContain('Processed message')
    const seen = readFileSync(seenFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number })
    expect(seen.map((item) => item.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4])
  })

  it('run --handler: names the file and the fix when it is missing or exports no handler', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lkc-handler-'))
    writeFileSync(join(folder, 'nothing.ts'), 'export const processor = 1\n')
    const env = consumerEnv('any-topic')

    const missing = await lkc(['run', '--handler', join(folder, 'absent.ts')], env)
    const empty = await lkc(['run', '--handler', join(folder, 'nothing.ts')], env)

    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('absent.ts: no such file')
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('exports no `handler` function (it exports processor)')
  })

  it('run --handler: names "type": "module" when the project says CommonJS (what npm init writes)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lkc-handler-'))
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'orders', type: 'commonjs' }))
    writeFileSync(
      join(folder, 'handler.ts'),
      "import { createHandler } from 'lambda-kafka-consumer'\nexport const handler = createHandler({ process: async () => {} })\n",
    )

    const result = await lkc(['run', '--handler', join(folder, 'handler.ts')], consumerEnv('any-topic'))

    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      `Node reads it as CommonJS: ${join(folder, 'package.json')} says "type": "commonjs"`,
    )
    expect(result.stderr).toContain('set "type": "module" in your package.json (`npm pkg set type=module`)')
  })

  it('run: exits 1 and says which message failed when one is not JSON', async () => {
    const topic = await freshTopic(1)
    await produce(topic, [{ value: '{"ok":1}' }, { value: 'oops' }])

    const result = await lkc(['run'], consumerEnv(topic, { LOG_LEVEL: 'INFO' }))

    expect(result.code).toBe(1)
    expect(result.stderr).toContain('stopped before offset 1')
    expect(result.stderr).toContain('not JSON')
  })

  it('run: exits 2 on a bad config value, naming the key and what is allowed', async () => {
    const topic = await freshTopic(1)

    const result = await lkc(['run'], consumerEnv(topic, { START_POSITION: 'middle' }))

    expect(result.code).toBe(2)
    expect(result.stderr).toContain('START_POSITION="middle": one of: earliest, latest')
    expect(await storedItems(`lambda-consumer-group_${topic}`)).toEqual([])
  })

  it('run: exits 1 with a clear error when the topic does not exist, writing nothing', async () => {
    const result = await lkc(['run'], consumerEnv('no-such-topic-here'))

    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Topic "no-such-topic-here" does not exist')
    expect(await storedItems('lambda-consumer-group_no-such-topic-here')).toEqual([])
  })

  it('run: exits 1 with a clear error when no broker answers', async () => {
    const topic = 'any-topic'
    const result = await lkc(
      ['run'],
      consumerEnv(topic, { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1', KAFKA_REQUEST_TIMEOUT_MS: '1000' }),
    )

    expect(result.code).toBe(1)
    expect(result.stderr).toContain('127.0.0.1:1')
    expect(result.stderr).toMatch(/ECONNREFUSED|connect/i)
    expect(result.stderr).toContain('KAFKA_BOOTSTRAP_SERVERS')
  })

  it('status: shows stored offset, log end offset and lag per partition, as a table and as JSON', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(10, 2))
    const env = consumerEnv(topic, { MAX_MESSAGES: '4' })
    await lkc(['run'], env)

    const table = await lkc(['status'], env)
    const json = await lkc(['status', '--json'], env)

    expect(table.code).toBe(0)
    expect(table.stdout).toContain(`consumer_id lambda-consumer-group_${topic}`)
    expect(table.stdout).toMatch(/partition\s+stored offset\s+log end offset\s+lag\s+last saved/)
    expect(JSON.parse(json.stdout)).toMatchObject({
      consumerId: `lambda-consumer-group_${topic}`,
      partitions: [
        { partition: 0, storedOffset: 1, logEndOffset: 5, lag: 3 },
        { partition: 1, storedOffset: 1, logEndOffset: 5, lag: 3 },
      ],
    })
  })

  it('produce: sends sample JSON messages that run then consumes', async () => {
    const topic = await freshTopic(3)
    const env = consumerEnv(topic, { LOG_LEVEL: 'INFO' })

    const produced = await lkc(['produce', '--count', '25'], env)
    const run = await lkc(['run'], env)

    expect(produced.code).toBe(0)
    expect(produced.stdout).toContain(`Sent 25 message(s) to ${topic}`)
    expect(run.stderr).toContain('Run summary: 25 message(s)')
  })

  it("--help lists the command's options and every setting it reads", async () => {
    const result = await lkc(['run', '--help'], { KAFKA_TOPIC: 'shown-topic' })

    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: lkc run')
    for (const key of [
      'KAFKA_BOOTSTRAP_SERVERS',
      'KAFKA_TOPIC',
      'KAFKA_GROUP_ID',
      'DYNAMODB_TABLE',
      'MAX_MESSAGES',
      'START_POSITION',
    ]) {
      expect(result.stdout).toContain(key)
    }
    expect(result.stdout).toContain('[set: shown-topic]')
  })

  it('rejects an unknown command or option with usage and exit code 2', async () => {
    const unknownCommand = await lkc(['consume'])
    const unknownOption = await lkc(['start', '--evry', '10s'])

    expect(unknownCommand.code).toBe(2)
    expect(unknownCommand.stderr).toContain('unknown command "consume"')
    expect(unknownOption.code).toBe(2)
    expect(unknownOption.stderr).toContain("Unknown option '--evry'")
  })
})
