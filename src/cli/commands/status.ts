import { consumerIdOf, loadConfig } from '../../config/schema.ts'
import { createRuntime } from '../../runtime/create-runtime.ts'
import type { Command } from '../command.ts'

export interface PartitionStatus {
  readonly partition: number
  /** The last offset processed, as stored; `null` when the partition has no item yet. */
  readonly storedOffset: number | null
  readonly logStartOffset: number
  readonly logEndOffset: number
  /** Messages not yet processed: from the stored offset + 1 (or where the first run would start) to the end. */
  readonly lag: number
  readonly lastSaved: string | null
}

export const statusCommand: Command = {
  summary: 'Show, per partition, the stored offset, the log end offset, the lag and when it was saved',
  help: [
    'Usage: lkc status [--json]',
    '',
    "Reads the offsets table and the topic's watermarks (nothing is written) and prints one row",
    'per partition. --json prints the same as JSON, for scripts.',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  readsConfig: true,
  async run(options, env) {
    const config = loadConfig(env)
    const runtime = await createRuntime(config, env)
    try {
      const [stored, partitions] = await Promise.all([
        runtime.offsets.read(),
        runtime.source.partitions(config.kafkaTopic),
      ])
      const marks = await runtime.source.watermarks(config.kafkaTopic, partitions)
      const rows: PartitionStatus[] = partitions.map((partition) => {
        const item = stored.get(partition)
        const mark = marks.get(partition) ?? { logStartOffset: 0, endOffset: 0 }
        const next = item
          ? Math.max(item.offset + 1, mark.logStartOffset)
          : config.startPosition === 'earliest'
            ? mark.logStartOffset
            : mark.endOffset
        return {
          partition,
          storedOffset: item?.offset ?? null,
          logStartOffset: mark.logStartOffset,
          logEndOffset: mark.endOffset,
          lag: Math.max(0, mark.endOffset - next),
          lastSaved: item?.updatedAt ?? null,
        }
      })
      const consumerId = consumerIdOf(config)
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ consumerId, table: config.dynamodbTable, topic: config.kafkaTopic, partitions: rows }, null, 2)}\n`,
        )
      } else {
        process.stdout.write(`${formatStatus(consumerId, config.dynamodbTable, rows)}\n`)
      }
      return 0
    } finally {
      await runtime.close()
    }
  },
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
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => cells[column]!.length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd()
  const totalLag = rows.reduce((sum, row) => sum + row.lag, 0)
  return [
    `consumer_id ${consumerId} in table ${table}: total lag ${totalLag}`,
    line(header),
    ...body.map(line),
  ].join('\n')
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 120) return `${seconds} s ago`
  const minutes = Math.round(seconds / 60)
  return minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`
}
