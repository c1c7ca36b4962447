import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { OffsetStoreError } from '../../offsets/errors.ts'
import { type CheckResult, formatDoctor, runDoctor } from '../../operations/doctor.ts'
import { createRuntime, type Runtime } from '../../runtime/create-runtime.ts'
import type { Command } from '../command.ts'

export const doctorCommand: Command = {
  help: [
    'Usage: lkc doctor [--json]',
    '',
    'Checks everything a run needs, one line each with a verdict and the fix: the config, the',
    'Kafka broker (reachable, authenticated), the topic and its partitions, DynamoDB credentials,',
    'the offsets table and its key schema, reading the offsets, the run lease, and the schema',
    'registry when a format uses one (reachable, and the credentials taken). Writes nothing.',
    'Exit code 0 when nothing failed, 1 otherwise.',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  readsConfig: true,
  async run(options, env) {
    let runtime: Runtime | undefined
    let results: CheckResult[]
    try {
      results = await runDoctor(env, async (config) => {
        const current = await createRuntime(config, env)
        runtime = current
        return {
          async credentials() {
            const credentials = await current.dynamodb.config.credentials()
            return `found (access key ${credentials.accessKeyId.slice(0, 4)}...)`
          },
          async partitions(topic) {
            const layout = await current.source.layout(topic)
            return {
              count: layout.leaders.length,
              withoutLeader: layout.leaders.filter((leader) => leader < 0).length,
            }
          },
          async describeTable(table) {
            try {
              const { Table } = await current.dynamodb.send(new DescribeTableCommand({ TableName: table }))
              const types = new Map(
                (Table?.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]),
              )
              return {
                status: Table?.TableStatus ?? 'UNKNOWN',
                keySchema: (Table?.KeySchema ?? []).map((key) => ({
                  name: key.AttributeName ?? '',
                  keyType: key.KeyType ?? '',
                  ...(types.get(key.AttributeName) && { type: types.get(key.AttributeName) }),
                })),
              }
            } catch (error) {
              throw OffsetStoreError.from(`describe table "${table}"`, table, error)
            }
          },
          async readOffsets() {
            return (await current.offsets.read()).size
          },
          lease: () => current.lease.current(),
          async registry() {
            return current.decoders.registry?.check(AbortSignal.timeout(config.schemaRegistryTimeoutMs))
          },
        }
      })
    } finally {
      await (runtime as Runtime | undefined)?.close()
    }
    process.stdout.write(
      options.json
        ? `${JSON.stringify(results, null, 2)}\n`
        : `${formatDoctor(results, process.stdout.isTTY === true)}\n`,
    )
    return results.some((result) => result.verdict === 'fail') ? 1 : 0
  },
}
