/**
 * The throughput chart, hand-written SVG (no chart library): per scenario, kcat's messages
 * per second beside this project's, drained in one invocation and with the default
 * MAX_MESSAGES, each bar labelled with its value and its ratio to kcat.
 */
import type { BenchResults } from './bench-results.ts'
import { formatNumber } from './stats.ts'

export interface ChartBar {
  readonly label: string
  readonly value: number
  readonly color: string
  /** Shown after the value, e.g. "122 MB/s, 0.62× kcat". */
  readonly note?: string
}

export interface ChartGroup {
  readonly title: string
  readonly bars: readonly ChartBar[]
}

const WIDTH = 820
const LEFT = 24
const RIGHT = 250
const BAR = 16
const BAR_GAP = 4
const TITLE = 20
const GROUP_GAP = 14
const TOP = 58
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

export function renderThroughputChart(results: BenchResults): string {
  const groups: ChartGroup[] = results.throughput.map((result) => ({
    title: `${formatNumber(result.messages)} × ${result.sizeInBytes >= 1024 ? `${formatNumber(result.sizeInBytes / 1024)} KiB` : `${result.sizeInBytes} B`} JSON, ${result.partitions} partition${result.partitions === 1 ? '' : 's'}`,
    bars: [
      {
        label: 'kcat (librdkafka)',
        value: result.kcat.messagesPerSecond,
        color: '#9aa0a6',
        note: `${formatNumber(result.kcat.megabytesPerSecond)} MB/s`,
      },
      {
        label: 'lkc, one invocation',
        value: result.oneInvocation.messagesPerSecond,
        color: '#1a73e8',
        note: `${formatNumber(result.oneInvocation.megabytesPerSecond)} MB/s, ${result.oneInvocation.ratioToKcat.toFixed(2)}× kcat`,
      },
      {
        label: 'lkc, MAX_MESSAGES=1000',
        value: result.defaultMaxMessages.messagesPerSecond,
        color: '#8ab4f8',
        note: `${formatNumber(result.defaultMaxMessages.megabytesPerSecond)} MB/s, ${result.defaultMaxMessages.ratioToKcat.toFixed(2)}× kcat`,
      },
    ],
  }))
  const load = results.machine.loadAverageAtStart.join(' / ')
  return renderBarChart(
    'Messages per second: this project (lkc) beside kcat',
    `${results.startedAt.slice(0, 10)}, ${results.machine.cpus} cores, load average ${load} at start; bundled handler, no-op processor, offsets saved`,
    groups,
  )
}

export function renderBarChart(title: string, subtitle: string, groups: readonly ChartGroup[]): string {
  const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)))
  const scale = niceCeiling(max)
  const plotWidth = WIDTH - LEFT - RIGHT
  const groupHeight = (bars: number) => TITLE + bars * BAR + (bars - 1) * BAR_GAP
  const height = TOP + groups.reduce((sum, group) => sum + groupHeight(group.bars.length) + GROUP_GAP, 0) + 56
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600" fill="#202124">${escapeXml(title)}</text>`,
    `<text x="16" y="42" fill="#5f6368">${escapeXml(subtitle)}</text>`,
  )
  const plotBottom = height - 44
  for (let tick = 0; tick <= 4; tick++) {
    const x = LEFT + (plotWidth * tick) / 4
    parts.push(
      `<line x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${plotBottom}" stroke="#e8eaed"/>`,
      `<text x="${x}" y="${plotBottom + 14}" text-anchor="middle" fill="#5f6368">${escapeXml(formatNumber((scale * tick) / 4))}</text>`,
    )
  }
  let y = TOP
  for (const group of groups) {
    parts.push(
      `<text x="${LEFT}" y="${y + 13}" font-weight="600" fill="#202124">${escapeXml(group.title)}</text>`,
    )
    y += TITLE
    for (const bar of group.bars) {
      const width = Math.max(1, (plotWidth * bar.value) / scale)
      const label = `${formatNumber(bar.value)}${bar.note ? `  (${bar.note})` : ''}`
      parts.push(
        `<rect x="${LEFT}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" rx="2" fill="${bar.color}"><title>${escapeXml(`${bar.label}: ${label} msgs/s`)}</title></rect>`,
        `<text x="${(LEFT + width + 6).toFixed(1)}" y="${y + BAR - 4}" fill="#202124">${escapeXml(label)}</text>`,
      )
      y += BAR + BAR_GAP
    }
    y += GROUP_GAP - BAR_GAP
  }
  const legend = groups[0]?.bars ?? []
  let legendX = LEFT
  for (const bar of legend) {
    parts.push(
      `<rect x="${legendX}" y="${height - 20}" width="10" height="10" fill="${bar.color}"/>`,
      `<text x="${legendX + 14}" y="${height - 11}" fill="#5f6368">${escapeXml(bar.label)}</text>`,
    )
    legendX += 18 + bar.label.length * 6.5
  }
  parts.push(`<text x="${WIDTH - 16}" y="${height - 11}" text-anchor="end" fill="#5f6368">messages/s</text>`)
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
