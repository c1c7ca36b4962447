/**
 * The throughput chart, hand-written SVG (no chart library): per scenario, the baselines
 * (kcat, the seed's design in Python) beside issue 6's best case and the real path, each bar
 * named on its left and labelled with its value and ratios on its right.
 */
import type { BenchResults, DrainRunResult } from './bench-results.ts'
import { formatNumber } from './stats.ts'

export interface ChartBar {
  readonly label: string
  readonly value: number
  readonly color: string
  /** Shown after the value, e.g. "0.62× kcat". */
  readonly note?: string
  /** Drawn bold: the figure the chart is about. */
  readonly strong?: boolean
}

export interface ChartGroup {
  readonly title: string
  readonly bars: readonly ChartBar[]
}

const WIDTH = 1040
/** The bars' names, right-aligned before the plot. */
const LABELS = 330
const RIGHT = 250
const BAR = 16
const BAR_GAP = 4
const TITLE = 22
const GROUP_GAP = 14
const TOP = 62
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

const COLORS = {
  kcat: '#9aa0a6',
  python: '#f29900',
  best: '#c6dafc',
  sync: '#8ab4f8',
  async: '#4285f4',
  real: '#174ea6',
  logging: '#a142f4',
} as const

export function renderThroughputChart(results: BenchResults): string {
  const groups: ChartGroup[] = results.throughput.map((result) => {
    const drain = (run: DrainRunResult['run']) => result.drains.find((candidate) => candidate.run === run)
    const ratios = (toKcat: number | undefined, toPython: number | undefined) =>
      [
        toKcat === undefined ? undefined : `${toKcat.toFixed(2)}× kcat`,
        toPython === undefined ? undefined : `${toPython.toFixed(2)}× Python`,
      ]
        .filter(Boolean)
        .join(', ')
    const bars: ChartBar[] = []
    if (result.kcat) {
      bars.push({
        label: 'kcat (librdkafka), whole process',
        value: result.kcat.wholeProcess.messagesPerSecond,
        color: COLORS.kcat,
      })
    }
    if (result.python) {
      bars.push({
        label: "seed's design in Python, whole process",
        value: result.python.wholeProcess.messagesPerSecond,
        color: COLORS.python,
        note: ratios(result.python.toKcat?.wholeProcess, undefined),
      })
    }
    const best = drain('best-case')
    if (best) {
      bars.push({
        label: "issue 6's best case (sync, DynamoDB 0 ms, drain only)",
        value: best.inProcess.messagesPerSecond,
        color: COLORS.best,
        note: ratios(best.toKcat?.inProcess, best.toPython?.inProcess),
      })
    }
    const sync = drain('sync')
    if (sync) {
      bars.push({
        label: 'lkc sync processor, drain in the process',
        value: sync.inProcess.messagesPerSecond,
        color: COLORS.sync,
        note: ratios(sync.toKcat?.inProcess, sync.toPython?.inProcess),
      })
    }
    const real = drain('async')
    if (real) {
      bars.push({
        label: 'lkc async processor, drain in the process',
        value: real.inProcess.messagesPerSecond,
        color: COLORS.async,
        note: ratios(real.toKcat?.inProcess, real.toPython?.inProcess),
      })
      bars.push({
        label: 'lkc async processor, whole process: the real path',
        value: real.wholeProcess.messagesPerSecond,
        color: COLORS.real,
        note: ratios(real.toKcat?.wholeProcess, real.toPython?.wholeProcess),
        strong: true,
      })
    }
    const logging = drain('default-warn')
    if (logging) {
      bars.push({
        label: 'lkc default handler, LOG_LEVEL=WARN, whole process',
        value: logging.wholeProcess.messagesPerSecond,
        color: COLORS.logging,
        note: ratios(logging.toKcat?.wholeProcess, logging.toPython?.wholeProcess),
      })
    }
    return {
      title: `${formatNumber(result.messages)} × ${result.sizeInBytes >= 1024 ? `${formatNumber(result.sizeInBytes / 1024)} KiB` : `${result.sizeInBytes} B`} JSON, ${result.partitions} partition${result.partitions === 1 ? '' : 's'}`,
      bars,
    }
  })
  const load = results.machine.loadAverageAtStart.join(' / ')
  return renderBarChart(
    'Messages per second: the real path beside kcat, the Python design and the old best case',
    `${results.startedAt.slice(0, 10)}, ${results.machine.cpus} cores, load average ${load} at start; DynamoDB at ${results.options.dynamodbLatencyMs} ms per request on the real path; medians`,
    groups,
  )
}

export function renderBarChart(title: string, subtitle: string, groups: readonly ChartGroup[]): string {
  const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)))
  const scale = niceCeiling(max)
  const plotLeft = LABELS
  const plotWidth = WIDTH - LABELS - RIGHT
  const groupHeight = (bars: number) => TITLE + bars * BAR + Math.max(0, bars - 1) * BAR_GAP
  const height = TOP + groups.reduce((sum, group) => sum + groupHeight(group.bars.length) + GROUP_GAP, 0) + 30
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600" fill="#202124">${escapeXml(title)}</text>`,
    `<text x="16" y="42" fill="#5f6368">${escapeXml(subtitle)}</text>`,
  )
  const plotBottom = height - 24
  for (let tick = 0; tick <= 4; tick++) {
    const x = plotLeft + (plotWidth * tick) / 4
    parts.push(
      `<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${plotBottom}" stroke="#e8eaed"/>`,
      `<text x="${x}" y="${plotBottom + 14}" text-anchor="middle" fill="#5f6368">${escapeXml(formatNumber((scale * tick) / 4))}</text>`,
    )
  }
  let y = TOP
  for (const group of groups) {
    parts.push(`<text x="16" y="${y + 14}" font-weight="600" fill="#202124">${escapeXml(group.title)}</text>`)
    y += TITLE
    for (const bar of group.bars) {
      const width = Math.max(1, (plotWidth * bar.value) / scale)
      const value = `${formatNumber(bar.value)}${bar.note ? `  (${bar.note})` : ''}`
      const weight = bar.strong ? ' font-weight="600"' : ''
      parts.push(
        `<text x="${plotLeft - 8}" y="${y + BAR - 4}" text-anchor="end" fill="#3c4043"${weight}>${escapeXml(bar.label)}</text>`,
        `<rect x="${plotLeft}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" rx="2" fill="${bar.color}"><title>${escapeXml(`${bar.label}: ${value} msgs/s`)}</title></rect>`,
        `<text x="${(plotLeft + width + 6).toFixed(1)}" y="${y + BAR - 4}" fill="#202124"${weight}>${escapeXml(value)}</text>`,
      )
      y += BAR + BAR_GAP
    }
    y += GROUP_GAP - BAR_GAP
  }
  parts.push(
    `<text x="${WIDTH - 16}" y="${plotBottom + 14}" text-anchor="end" fill="#5f6368">messages/s</text>`,
  )
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

/** A round number at least `value` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten): the axis end. */
export function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * power >= value) return step * power
  }
  return 10 * power
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}
