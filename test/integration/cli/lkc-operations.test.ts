/** The operator's commands (`doctor`, `reset`, `status --watch`) against the real services. */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DynamoDbRunLease } from '../../../src/offsets/dynamodb-run-lease.ts'
import { lkc } from '../../support/cli.ts'
import { startTestSchemaRegistry } from '../../support/schema-registry.ts'
import {
  consumerEnv,
  dynamodb,
  freshTopic,
  numberedMessages,
  produce,
  recreateTopic,
  services,
  storedItems,
} from '../../support/services.ts'

describe('lkc doctor', () => {
  it('passes every check against a working setup and exits 0', async () => {
    const topic = await freshTopic(3)

    const result = await lkc(['doctor'], consumerEnv(topic))

    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/ok\s+kafka topic\s+t-\w+: 3 partition\(s\), all with a leader/)
    expect(result.stdout).toMatch(
      /ok\s+dynamodb table\s+kafka-consumer-offsets \(ACTIVE\) has the seed's key schema/,
    )
    expect(result.stdout).not.toContain('FAIL')
  })

  it('fails a missing topic and a missing table, each with its fix, and exits 1', async () => {
    const result = await lkc(['doctor'], consumerEnv('not-a-topic', { DYNAMODB_TABLE: 'not-the-table' }))

    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/FAIL\s+kafka topic\s+not-a-topic does not exist/)
    expect(result.stdout).toContain('fix: check KAFKA_TOPIC')
    expect(result.stdout).toMatch(/FAIL\s+dynamodb table\s+.*"not-the-table" does not exist/)
  })

  it('checks the schema registry a format uses, and fails a URL that is not one, with the fix', async () => {
    const topic = await freshTopic(1)
    const registry = await startTestSchemaRegistry()
    const avro = { VALUE_FORMAT: 'avro', SCHEMA_REGISTRY: 'confluent' }
    try {
      const plain = await lkc(['doctor'], consumerEnv(topic))
      const good = await lkc(['doctor'], consumerEnv(topic, { ...avro, SCHEMA_REGISTRY_URL: registry.url }))
      const wrong = await lkc(
        ['doctor'],
        consumerEnv(topic, { ...avro, SCHEMA_REGISTRY_URL: `${registry.url}/api` }),
      )

      expect(plain.stdout).toMatch(
        /skip\s+schema registry\s+not used \(VALUE_FORMAT json, KEY_FORMAT string\)/,
      )
      expect(good.code).toBe(0)
      expect(good.stdout).toMatch(
        /ok\s+schema registry\s+http:\/\/127\.0\.0\.1:\d+ answers; schema types JSON/,
      )
      expect(wrong.code).toBe(1)
      expect(wrong.stdout).toMatch(/FAIL\s+schema registry\s+.*\/api\/schemas\/types answered HTTP 404/)
      expect(wrong.stdout).toContain('fix: Check SCHEMA_REGISTRY_URL')
    } finally {
      await registry.stop()
    }
  })
})

describe('lkc reset', () => {
  it('shows the plan and, with --yes, moves the offsets; a run then starts there', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(20, 2))
    const env = consumerEnv(topic)
    await lkc(['run'], env)

    const reset = await lkc(['reset', '--to', 'earliest', '--partition', '1', '--yes'], env)
    const items = await storedItems(`lambda-consumer-group_${topic}`)
    const run = await lkc(['run'], { ...env, LOG_LEVEL: 'INFO' })

    expect(reset.code).toBe(0)
    expect(reset.stdout).toMatch(/1\s+9\s+-1\s+10 -> 0\s+replays 10 message\(s\)/)
    expect(items.map(({ partition, offset }) => [partition, offset])).toEqual([
      [0, 9],
      [1, -1],
    ])
    expect(run.stderr).toContain('Run summary: 10 message(s)')
    expect(run.stderr).toContain('partition 1: 0..9 (10 processed, lag 0)')
  })

  it('does not write without confirmation when it cannot ask (not a terminal)', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(5, 1))
    const env = consumerEnv(topic)
    await lkc(['run'], env)

    const result = await lkc(['reset', '--to', 'earliest'], env)

    expect(result.code).toBe(2)
    expect(result.stderr).toContain('pass --yes')
    expect(result.stdout).toContain('Nothing changed.')
  })

  it('refuses while a run holds the lease, and status names the holder', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(5, 1))
    const env = consumerEnv(topic)
    await lkc(['run'], env)
    const client = dynamodb()
    const lease = new DynamoDbRunLease(client, {
      table: services().table,
      topic,
      groupId: 'lambda-consumer-group',
    })
    await lease.acquire('run-in-progress', Date.now(), 60_000)

    const reset = await lkc(['reset', '--to', 'earliest', '--yes'], env)
    const status = await lkc(['status'], env)
    const items = await storedItems(`lambda-consumer-group_${topic}`)
    client.destroy()

    expect(reset.code).toBe(1)
    expect(reset.stderr).toContain('Refusing: a run holds the lease (run-in-progress)')
    expect(items.find((item) => item.partition === 0)?.offset).toBe(4)
    expect(status.stdout).toMatch(/lease: held by run-in-progress until \S+ \(\d+ s left\)/)
  })

  it('rejects a bad target with exit code 2 and what is allowed', async () => {
    const result = await lkc(['reset', '--to', 'yesterday'], consumerEnv('any-topic'))

    expect(result.code).toBe(2)
    expect(result.stderr).toContain('use earliest, latest, an offset')
  })
})

describe('a re-created topic, as the operator meets it', () => {
  it('the run fails, status shows the partitions stopped and why, reset --to earliest lets the runs consume the new topic', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(40, 2))
    const env = consumerEnv(topic)
    await lkc(['run'], env)
    await recreateTopic(topic, 2)
    await produce(topic, numberedMessages(10, 2))

    const failed = await lkc(['run'], { ...env, LOG_LEVEL: 'INFO' })
    const status = await lkc(['status'], env)
    const json = JSON.parse((await lkc(['status', '--json'], env)).stdout) as {
      topicId: string
      partitions: Array<{ partition: number; mismatch?: { reason: string }; nextOffset: number | null }>
    }
    const reset = await lkc(['reset', '--to', 'earliest', '--yes'], env)
    const items = await storedItems(`lambda-consumer-group_${topic}`)
    const after = await lkc(['run'], { ...env, LOG_LEVEL: 'INFO' })
    const statusAfter = await lkc(['status'], env)
    console.log(
      `lkc run:\n${failed.stderr}\nlkc status:\n${status.stdout}\nlkc reset --to earliest --yes:\n${reset.stdout}`,
    )

    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('2 partition(s) of')
    expect(failed.stderr).toContain('partition 0: stored offset 19, log 0 to 5 (its end offset)')
    expect(failed.stderr).toContain(
      'partition 1: nothing new (0 processed, lag 5)  STOPPED: its stored offset 19 does not fit the log (0 to 5); not consumed until lkc reset',
    )
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('total lag 10; 2 partition(s) STOPPED until `lkc reset`')
    expect(status.stdout).toMatch(/0\s+19\s+5\s+5 STOPPED/)
    expect(status.stdout).toContain('partition 1 STOPPED, no run consumes it: stored offset 19, log 0 to 5;')
    expect(status.stdout).toContain("and the topic's id is now")
    expect(status.stdout).toContain('fix: decide where it starts: `lkc reset --to earliest --partition 1`')
    expect(json.partitions.map((partition) => [partition.mismatch?.reason, partition.nextOffset])).toEqual([
      ['topic-id', null],
      ['topic-id', null],
    ])
    expect(reset.code).toBe(0)
    expect(reset.stdout).toMatch(
      /0\s+19\s+-1\s+stopped -> 0\s+consumed from here: 5 message\(s\) of the re-created topic to process/,
    )
    expect(items.map((item) => [item.partition, item.offset, item.topic_id, item.offset_mismatch])).toEqual([
      [0, -1, json.topicId, undefined],
      [1, -1, json.topicId, undefined],
    ])
    expect(after.code).toBe(0)
    expect(after.stderr).toContain('Run summary: 10 message(s)')
    expect(statusAfter.stdout).toContain('total lag 0')
    expect(statusAfter.stdout).not.toContain('STOPPED')
  })
})

describe('lkc status --watch', () => {
  it('refreshes until interrupted, then exits 0', async () => {
    const topic = await freshTopic(1)
    const child = spawn(
      process.execPath,
      [resolve(import.meta.dirname, '../../../src/cli/main.ts'), 'status', '--watch', '--every', '200ms'],
      { env: { PATH: process.env.PATH ?? '', ...consumerEnv(topic) } },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.split('total lag').length > 3) child.kill('SIGINT')
    })

    const code = await new Promise<number | null>((done) => child.on('exit', done))

    expect(code).toBe(0)
    expect(stdout.split('total lag').length).toBeGreaterThan(3)
    expect(stdout).toContain('refreshing every 0.2 s')
  })
})

describe('lkc cost', () => {
  it('measures an idle invocation here and itemizes the monthly cost', async () => {
    const topic = await freshTopic(3)

    const result = await lkc(['cost', '--busy-duration-ms', '900'], consumerEnv(topic))

    expect(result.code).toBe(0)
    expect(result.stdout).toContain('every 1m = 43,200 invocations, 512 MB arm64')
    expect(result.stdout).toMatch(/Idle \(nothing new; \d+ ms per invocation, measured here\)/)
    expect(result.stdout).toMatch(/Lambda \(arm64\)\s+43,200 invokes/)
    expect(result.stdout).toMatch(
      /Busy \(1000 messages per invocation, 900 ms, every partition saved, the lease taken and released\)/,
    )
    // 3 partitions and the lease's 2 writes, every run.
    expect(result.stdout).toMatch(/DynamoDB \(on-demand\)\s+43,200 reads, 216,000 writes/)
    // The lag and the dead letters; 7 alarms on 8 metrics, 4 of them Lambda's own; no dashboard.
    expect(result.stdout).toMatch(
      /CloudWatch metrics, dashboard, alarms\s+2 custom metrics, 0 dashboards, 8 alarm metrics\s+\$1\.40/,
    )
  })

  it('prices the dashboard, the detailed and per-partition metrics when they are asked for', async () => {
    const topic = await freshTopic(3)

    const result = await lkc(
      ['cost', '--duration-ms', '8', '--dashboard'],
      consumerEnv(topic, { DETAILED_METRICS: 'true', PARTITION_LAG_METRICS: 'true' }),
    )

    expect(result.code).toBe(0)
    // 2 + 6 detailed + 3 partitions = 11 metrics ($3.30), the dashboard ($3.00), the alarms ($0.80).
    expect(result.stdout).toMatch(
      /CloudWatch metrics, dashboard, alarms\s+11 custom metrics, 1 dashboard, 8 alarm metrics\s+\$7\.10/,
    )
  })
})
