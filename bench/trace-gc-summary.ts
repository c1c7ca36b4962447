/**
 * Summaries of the drain workers' `--trace-gc` output (`npm run bench -- --trace-gc DIR`):
 * per measured run, how many scavenges (young generation) and mark-compacts (old generation)
 * V8 made and how long they paused the thread. Written to DIR/gc-summary.md and printed.
 *
 *   node bench/trace-gc-summary.ts DIR
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

export interface GcTotals {
  readonly label: string
  readonly processes: number
  readonly scavenges: number
  readonly scavengeMs: number
  readonly markCompacts: number
  readonly markCompactMs: number
  /** The largest heap V8 reported after a collection, MB. */
  readonly maxHeapAfterMb: number
}

/**
 * One line per collection, e.g.
 * `[123:0x5c…]   456 ms: Scavenge 41.2 (58.7) -> 30.1 (59.2) MB, pooled: 0 MB, 3.21 / 0.00 ms  (average mu = …) allocation failure;`
 */
const LINE =
  /ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\b[^,]*?-> ([\d.]+) \([\d.]+\) MB,(?: pooled: [\d.]+ MB,)? ([\d.]+) \/ [\d.]+ ms/

const STEPS = /\(\+ ([\d.]+) ms in \d+ steps/

export function parseGcTrace(text: string): Omit<GcTotals, 'label' | 'processes'> {
  let scavenges = 0
  let scavengeMs = 0
  let markCompacts = 0
  let markCompactMs = 0
  let maxHeapAfterMb = 0
  for (const line of text.split('\n')) {
    const match = LINE.exec(line)
    if (match === null) continue
    const pause = Number(match[3])
    maxHeapAfterMb = Math.max(maxHeapAfterMb, Number(match[2]))
    if (match[1] === 'Scavenge' || match[1]!.startsWith('Minor')) {
      scavenges++
      scavengeMs += pause
    } else {
      markCompacts++
      // Incremental marking runs on the main thread too, in steps between the program's work.
      markCompactMs += pause + Number(STEPS.exec(line)?.[1] ?? 0)
    }
  }
  return { scavenges, scavengeMs, markCompacts, markCompactMs, maxHeapAfterMb }
}

export async function summariseGcTraces(directory: string): Promise<string> {
  const groups = new Map<string, GcTotals>()
  for (const file of (await readdir(directory)).filter((name) => name.endsWith('.log')).sort()) {
    const label = file.replace(/-\d+\.log$/, '')
    const totals = parseGcTrace(await readFile(join(directory, file), 'utf8'))
    const previous = groups.get(label)
    groups.set(label, {
      label,
      processes: (previous?.processes ?? 0) + 1,
      scavenges: (previous?.scavenges ?? 0) + totals.scavenges,
      scavengeMs: (previous?.scavengeMs ?? 0) + totals.scavengeMs,
      markCompacts: (previous?.markCompacts ?? 0) + totals.markCompacts,
      markCompactMs: (previous?.markCompactMs ?? 0) + totals.markCompactMs,
      maxHeapAfterMb: Math.max(previous?.maxHeapAfterMb ?? 0, totals.maxHeapAfterMb),
    })
  }
  const lines = [
    '| run | processes | scavenges per process | their pauses, ms per process | mark-compacts per process | their pauses and incremental steps, ms per process | largest heap after a GC |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...[...groups.values()].map((totals) => {
      const per = (value: number) => (value / totals.processes).toFixed(1)
      return `| ${totals.label} | ${totals.processes} | ${per(totals.scavenges)} | ${per(totals.scavengeMs)} | ${per(totals.markCompacts)} | ${per(totals.markCompactMs)} | ${totals.maxHeapAfterMb.toFixed(1)} MB |`
    }),
  ]
  const markdown = lines.join('\n')
  await writeFile(join(directory, 'gc-summary.md'), `# --trace-gc: collections and pauses\n\n${markdown}\n`)
  return markdown
}

if (import.meta.main) {
  const [directory] = process.argv.slice(2)
  if (directory === undefined) {
    process.stderr.write('usage: node bench/trace-gc-summary.ts DIR\n')
    process.exitCode = 2
  } else {
    process.stdout.write(`${await summariseGcTraces(resolve(directory))}\n`)
  }
}
