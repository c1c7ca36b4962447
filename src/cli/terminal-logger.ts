/**
 * The cycle's `Logger` for a terminal: one readable line per event, coloured when the
 * output is a TTY. A run's summary is drawn as a short table instead of a JSON blob.
 */

import type { PartitionSummary } from '../cycle/run-cycle.ts'
import type { LogAttributes, Logger } from '../ports.ts'

export type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'
const ORDER: Record<Level, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 }

export interface TerminalLoggerOptions {
  readonly level?: Level
  readonly write?: (line: string) => void
  readonly color?: boolean
  /** A prefix such as `[consumer]`, to tell the demo's processes apart. */
  readonly prefix?: string
}

const paint = (code: number, text: string, color: boolean) =>
  color ? `\u001b[${code}m${text}\u001b[0m` : text

export function createTerminalLogger(options: TerminalLoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? 'INFO']
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const color = options.color ?? process.stderr.isTTY === true
  const levelColor: Record<Level, number> = { DEBUG: 90, INFO: 36, WARN: 33, ERROR: 31 }

  const emit = (level: Level) => (message: string, attributes?: LogAttributes) => {
    if (ORDER[level] < threshold) return
    const time = new Date().toISOString().slice(11, 23)
    const head = `${paint(90, time, color)} ${paint(levelColor[level], level.padEnd(5), color)}${
      options.prefix ? ` ${options.prefix}` : ''
    }`
    if ((message === 'Run summary' || message.startsWith('Run skipped')) && attributes) {
      write(`${head} ${formatSummary(attributes, color)}`)
      return
    }
    // An error's text is the point of the line: shown as written, not quoted among the fields.
    const { error, ...rest } = attributes ?? {}
    const text =
      error === undefined ? message : `${message}: ${error instanceof Error ? error.message : String(error)}`
    const fields = formatFields(rest)
    write(`${head} ${text}${fields ? ` ${paint(90, fields, color)}` : ''}`)
  }
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') }
}

export function formatFields(attributes: LogAttributes): string {
  return Object.entries(attributes)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(' ')
}

function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return /^[\w.:/@+-]*$/.test(value) && value !== '' ? value : JSON.stringify(value)
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return JSON.stringify(value.message)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  return String(value)
}

/** `Run summary: 12 message(s) in 35 ms (caught-up)` then one line per partition that had something. */
function formatSummary(attributes: LogAttributes, color: boolean): string {
  const partitions = (attributes.partitions ?? []) as PartitionSummary[]
  const lease = attributes.lease as { holder: string; expiresAt: string } | undefined
  if (attributes.stopReason === 'lease-held' && lease) {
    return `Run skipped: another run holds the lease (${lease.holder}, until ${lease.expiresAt}); nothing consumed`
  }
  const deadLettered = Number(attributes.deadLettered ?? 0)
  const filtered = Number(attributes.filtered ?? 0)
  const lines = [
    `Run summary: ${attributes.count} message(s)${deadLettered > 0 ? ` and ${deadLettered} dead-lettered` : ''}` +
      `${filtered > 0 ? ` (${filtered} filtered out)` : ''} ` +
      `from ${attributes.topic} in ${attributes.durationMs} ms (${attributes.stopReason})`,
  ]
  for (const partition of partitions) {
    const done = partition.count + (partition.deadLettered ?? 0) + (partition.filtered ?? 0)
    const { mismatch, unavailable } = partition
    if (done === 0 && partition.lag === 0 && !partition.failure && !mismatch && unavailable === undefined)
      continue
    const range = done > 0 ? `${partition.fromOffset}..${partition.toOffset}` : 'nothing new'
    const failure = partition.failure
      ? paint(31, `  stopped before offset ${partition.failure.offset}: ${partition.failure.reason}`, color)
      : mismatch
        ? paint(
            31,
            `  STOPPED: its stored offset ${mismatch.storedOffset} does not fit the log (${mismatch.logStartOffset} to ${mismatch.logEndOffset}); not consumed until lkc reset`,
            color,
          )
        : unavailable !== undefined
          ? paint(33, `  left out: ${unavailable}`, color)
          : ''
    const letters =
      (partition.deadLettered ? `, ${partition.deadLettered} dead-lettered` : '') +
      (partition.filtered ? `, ${partition.filtered} filtered out` : '')
    lines.push(
      `    partition ${partition.partition}: ${range} (${partition.count} processed${letters}, lag ${partition.lag})${failure}`,
    )
  }
  if (lines.length === 1 && partitions.length > 0) lines[0] += ', every partition up to date'
  return lines.join('\n')
}
