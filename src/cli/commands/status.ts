import { consumerIdOf, loadConfig } from '../../config/schema.ts'
import { parseInterval } from '../../local/scheduler.ts'
import type { LeaseState } from '../../offsets/dynamodb-run-lease.ts'
import { type PartitionStatus, readPartitionStatus } from '../../operations/partition-status.ts'
import { textTable } from '../../operations/text-table.ts'
import { createRuntime } from '../../runtime/create-runtime.ts'
import { type Command, stringOption, UsageError } from '../command.ts'

export const statusCommand: Command = {
  help: [
    'Usage: lkc status [--json] [--watch [--every <interval>]]',
    '',
    "Reads the offsets table and the topic's watermarks (nothing is written) and prints one row",
    'per partition: the stored offset, the log end offset, the lag and when the offset was saved;',
    'then who holds the run lease, until when.',
    '',
    'Options:',
    '  --json              the same as JSON, for scripts',
    '  --watch             refresh in place until Ctrl-C',
    '  --every <interval>  how often --watch refreshes (default 2s)',
  ].join('\n'),
  options: { json: { type: 'boolean' }, watch: { type: 'boolean' }, every: { type: 'string' } },
  readsConfig: true,
  async run(options, env) {
    const config = loadConfig(env)
    const every = stringOption(options, 'every') ?? '2s'
    const everyMs = parseInterval(every)
    if (everyMs === undefined) throw new UsageError(`--every must look like 500ms, 2s or 1m, not "${every}"`)
    const runtime = await createRuntime(config, env)
    const consumerId = consumerIdOf(config)
    const render = async () => {
      const [rows, lease] = await Promise.all([
        readPartitionStatus(runtime.source, runtime.offsets, config.kafkaTopic, config.startPosition),
        runtime.lease.current(),
      ])
      const view = {
        consumerId,
        table: config.dynamodbTable,
        topic: config.kafkaTopic,
        lease: lease ?? null,
        partitions: rows,
      }
      return options.json
        ? JSON.stringify(view, null, 2)
        : `${formatStatus(consumerId, config.dynamodbTable, rows)}\n${formatLease(lease)}`
    }
    try {
      if (!options.watch) {
        process.stdout.write(`${await render()}\n`)
        return 0
      }
      await watch(render, everyMs)
      return 0
    } finally {
      await runtime.close()
    }
  },
}

/** Redraws in place on a terminal (cursor up, clear below); elsewhere prints one block per refresh. */
async function watch(render: () => Promise<string>, everyMs: number): Promise<void> {
  let stopped = false
  const stop = () => {
    stopped = true
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let previousLines = 0
  try {
    while (!stopped) {
      const text = `${await render()}\n(refreshing every ${everyMs / 1000} s, Ctrl-C to stop)`
      if (process.stdout.isTTY && previousLines > 0) process.stdout.write(`\u001b[${previousLines}F\u001b[J`)
      process.stdout.write(`${text}\n`)
      previousLines = text.split('\n').length
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

export function formatStatus(
  consumerId: string,
  table: string,
  rows: readonly PartitionStatus[],
  now = Date.now(),
): string {
  const header = ['partition', 'stored offset', 'log end offset', 'lag', 'last saved']
  const body = rows.map((row) => [
    String(row.partition),
    row.storedOffset === null ? '-' : String(row.storedOffset),
    String(row.logEndOffset),
    String(row.lag),
    row.lastSaved === null
      ? row.storedOffset === null
        ? 'never'
        : 'unknown'
      : `${row.lastSaved} (${ago(now - Date.parse(row.lastSaved))})`,
  ])
  const totalLag = rows.reduce((sum, row) => sum + row.lag, 0)
  return [`consumer_id ${consumerId} in table ${table}: total lag ${totalLag}`, textTable(header, body)].join(
    '\n',
  )
}

/** `lease: held by <run> until <time> (28 s left)`, or free, naming the last holder. */
export function formatLease(lease: LeaseState | undefined, now = Date.now()): string {
  if (lease === undefined) return 'lease: free (never taken)'
  const until = new Date(lease.expiresAt).toISOString()
  return lease.expiresAt > now
    ? `lease: held by ${lease.holder} until ${until} (${Math.ceil((lease.expiresAt - now) / 1000)} s left)`
    : `lease: free (last held by ${lease.holder}, until ${until})`
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 120) return `${seconds} s ago`
  const minutes = Math.round(seconds / 60)
  return minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`
}
