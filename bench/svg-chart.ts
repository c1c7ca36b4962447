/**
 * The throughput chart, hand-written SVG (no chart library): per scenario, the baselines
 * (kcat, the seed's design in Python) beside issue 6's best case and the real path, each bar
 * named on its left and labelled with its messages per second and ratios on its right.
 */
import type { BenchResults, DrainRunResult } from './bench-results.ts'
import { formatNumber } from './stats.ts'

export interface ChartBar {
  readonly label: string
  /** The bar's length, on the chart's axis. */
  readonly value: number
  readonly color: string
  /** Printed at the bar's end; default: the value. */
  readonly text?: string
  /** Drawn bold: the figure the chart is about. */
  readonly strong?: boolean
}

export interface ChartGroup {
  readonly title: string
  readonly bars: readonly ChartBar[]
}

export interface ChartAxis {
  readonly label: string
  readonly tick: (value: number) => string
}

const WIDTH = 1040
/** The bars' names, right-aligned before the plot. */
const LABELS = 330
const RIGHT = 270
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

/**
 * One group per scenario. The bars' length is their ratio to kcat in the same run (kcat = 1),
 * so that the scenarios of 200 B and of 10 KiB messages read alike; each is labelled with its
 * messages per second and its ratios to kcat and to the Python design.
 */
export function renderThroughputChart(results: BenchResults): string {
  const relative = results.throughput.every((result) => result.kcat !== undefined)
  const groups: ChartGroup[] = results.throughput.map((result) => {
    const drain = (run: DrainRunResult['run']) => result.drains.find((candidate) => candidate.run === run)
    const kcat = result.kcat?.wholeProcess.messagesPerSecond
    const python = result.python?.wholeProcess.messagesPerSecond
    const bar = (label: string, messagesPerSecond: number, color: string, strong = false): ChartBar => {
      const ratios = [
        kcat === undefined ? undefined : `${(messagesPerSecond / kcat).toFixed(2)}× kcat`,
        python === undefined ? undefined : `${(messagesPerSecond / python).toFixed(2)}× Python`,
      ].filter(Boolean)
      return {
        label,
        value: relative && kcat !== undefined ? messagesPerSecond / kcat : messagesPerSecond,
        color,
        text: `${formatNumber(messagesPerSecond)} msgs/s${ratios.length > 0 ? `  (${ratios.join(', ')})` : ''}`,
        strong,
      }
    }
    const bars: ChartBar[] = []
    if (result.kcat) {
      bars.push(
        bar('kcat (librdkafka), whole process', result.kcat.wholeProcess.messagesPerSecond, COLORS.kcat),
      )
    }
    if (result.python) {
      bars.push(
        bar(
          "seed's design in Python, whole process",
          result.python.wholeProcess.messagesPerSecond,
          COLORS.python,
        ),
      )
    }
    const best = drain('best-case')
    if (best) {
      bars.push(
        bar(
          "issue 6's best case (sync, DynamoDB 0 ms, drain only)",
          best.inProcess.messagesPerSecond,
          COLORS.best,
        ),
      )
    }
    const sync = drain('sync')
    if (sync)
      bars.push(
        bar('lkc sync processor, drain in the process', sync.inProcess.messagesPerSecond, COLORS.sync),
      )
    const real = drain('async')
    if (real) {
      bars.push(
        bar('lkc async processor, drain in the process', real.inProcess.messagesPerSecond, COLORS.async),
      )
      bars.push(
        bar(
          'lkc async processor, whole process: the real path',
          real.wholeProcess.messagesPerSecond,
          COLORS.real,
          true,
        ),
      )
    }
    const logging = drain('default-warn')
    if (logging) {
      bars.push(
        bar(
          'lkc default handler, LOG_LEVEL=WARN, whole process',
          logging.wholeProcess.messagesPerSecond,
          COLORS.logging,
        ),
      )
    }
    return {
      title: `${formatNumber(result.messages)} × ${result.sizeInBytes >= 1024 ? `${formatNumber(result.sizeInBytes / 1024)} KiB` : `${result.sizeInBytes} B`} JSON, ${result.partitions} partition${result.partitions === 1 ? '' : 's'}`,
      bars,
    }
  })
  const load = results.machine.loadAverageAtStart.join(' / ')
  return renderBarChart(
    'The real path beside kcat, the Python design and the old best case',
    `${results.startedAt.slice(0, 10)}, ${results.machine.cpus} cores, load average ${load} at start; DynamoDB at ${results.options.dynamodbLatencyMs} ms per request on the real path; medians`,
    groups,
    relative
      ? {
          label: 'bar length: messages per second ÷ kcat’s, same run',
          tick: (value) => `${value.toFixed(2)}×`,
        }
      : { label: 'messages per second', tick: formatNumber },
  )
}

export function renderBarChart(
  title: string,
  subtitle: string,
  groups: readonly ChartGroup[],
  axis: ChartAxis = { label: 'messages per second', tick: formatNumber },
): string {
  const longest = Math.max(Number.MIN_VALUE, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)))
  const scale = niceCeiling(longest)
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
      `<text x="${x}" y="${plotBottom + 14}" text-anchor="middle" fill="#5f6368">${escapeXml(axis.tick((scale * tick) / 4))}</text>`,
    )
  }
  let y = TOP
  for (const group of groups) {
    parts.push(`<text x="16" y="${y + 14}" font-weight="600" fill="#202124">${escapeXml(group.title)}</text>`)
    y += TITLE
    for (const bar of group.bars) {
      const width = Math.max(1, (plotWidth * bar.value) / scale)
      const text = bar.text ?? formatNumber(bar.value)
      const weight = bar.strong ? ' font-weight="600"' : ''
      parts.push(
        `<text x="${plotLeft - 8}" y="${y + BAR - 4}" text-anchor="end" fill="#3c4043"${weight}>${escapeXml(bar.label)}</text>`,
        `<rect x="${plotLeft}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" rx="2" fill="${bar.color}"><title>${escapeXml(`${bar.label}: ${text}`)}</title></rect>`,
        `<text x="${(plotLeft + width + 6).toFixed(1)}" y="${y + BAR - 4}" fill="#202124"${weight}>${escapeXml(text)}</text>`,
      )
      y += BAR + BAR_GAP
    }
    y += GROUP_GAP - BAR_GAP
  }
  parts.push(`<text x="16" y="${plotBottom + 14}" fill="#5f6368">${escapeXml(axis.label)}</text>`)
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
