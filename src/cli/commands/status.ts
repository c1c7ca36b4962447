import { consumerIdOf, loadConfig, startPositionOf } from '../../config/schema.ts'
import { mismatchCause, mismatchFix } from '../../cycle/errors.ts'
import { parseInterval } from '../../local/scheduler.ts'
import type { LeaseState } from '../../offsets/dynamodb-run-lease.ts'
import { readTopicStatus, type TopicStatus } from '../../operations/partition-status.ts'
import { textTable } from '../../operations/text-table.ts'
import { createRuntime } from '../../runtime/create-runtime.ts'
import { type Command, stringOption, UsageError } from '../command.ts'

export const statusCommand: Command = {
  help: [
    'Usage: lkc status [--json] [--watch [--every <interval>]]',
    '',
    "Reads the offsets table and the topic's watermarks (nothing is written) and prints one row",
    'per partition: the stored offset, the log end offset, the lag and when the offset was saved;',
    'then, for a partition no run consumes (its stored offset does not fit the log: a re-created',
    'topic; or it has no leader), why and what to do; then who holds the run lease, until when.',
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
      const [status, lease] = await Promise.all([
        readTopicStatus(runtime.source, runtime.offsets, config.kafkaTopic, startPositionOf(config)),
        runtime.lease.current(),
      ])
      const view = {
        consumerId,
        table: config.dynamodbTable,
        topic: config.kafkaTopic,
        topicId: status.topicId ?? null,
        lease: lease ?? null,
        partitions: status.partitions,
      }
      return options.json
        ? JSON.stringify(view, null, 2)
        : `${formatStatus(consumerId, config.dynamodbTable, status)}\n${formatLease(lease)}`
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
  status: TopicStatus,
  now = Date.now(),
): string {
  const rows = status.partitions
  const header = ['partition', 'stored offset', 'log end offset', 'lag', 'last saved']
  const body = rows.map((row) => [
    String(row.partition),
    row.storedOffset === null ? '-' : String(row.storedOffset),
    row.unavailable !== undefined ? 'unavailable' : String(row.logEndOffset),
    row.unavailable !== undefined ? '?' : row.mismatch !== undefined ? `${row.lag} STOPPED` : String(row.lag),
    row.lastSaved === null
      ? row.storedOffset === null
        ? 'never'
        : 'unknown'
      : `${row.lastSaved} (${ago(now - Date.parse(row.lastSaved))})`,
  ])
  const totalLag = rows.reduce((sum, row) => sum + row.lag, 0)
  const stopped = rows.filter((row) => row.mismatch !== undefined).length
  const unavailable = rows.filter((row) => row.unavailable !== undefined).length
  const summary = [
    `total lag ${totalLag}`,
    ...(stopped > 0 ? [`${stopped} partition(s) STOPPED until \`lkc reset\``] : []),
    ...(unavailable > 0 ? [`${unavailable} unavailable`] : []),
  ].join('; ')
  const notes = rows.flatMap((row) => {
    if (row.mismatch !== undefined) {
      const mismatch = row.mismatch
      return [
        `partition ${row.partition} STOPPED, no run consumes it: stored offset ${mismatch.storedOffset}, log ` +
          `${mismatch.logStartOffset} to ${mismatch.logEndOffset}; ${mismatchCause(mismatch)}.`,
        `  fix: ${mismatchFix(row.partition)}`,
      ]
    }
    if (row.unavailable !== undefined) {
      return [
        `partition ${row.partition} unavailable (its log offsets and lag are unknown): ${row.unavailable}`,
      ]
    }
    return []
  })
  return [`consumer_id ${consumerId} in table ${table}: ${summary}`, textTable(header, body), ...notes].join(
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
