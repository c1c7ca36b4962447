/**
 * Summaries of the drain workers' CPU profiles (`npm run bench -- --cpu-prof DIR`): per
 * measured run, the functions with the most self time and the source files they come from,
 * positions mapped through the source maps of the bundle and of its chunks (the code split off
 * for some settings) back to src/ and node_modules/. Written to
 * DIR/summary.md and printed; the profiles themselves open in Chrome DevTools.
 *
 *   node bench/profile-summary.ts DIR
 */
import { existsSync, readFileSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { SourceMap } from 'node:module'
import { basename, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: CallFrame }>
  readonly samples: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

export interface SelfTime {
  readonly name: string
  readonly where: string
  readonly ms: number
  readonly share: number
}

export interface ProfileSummary {
  readonly label: string
  readonly profiles: number
  readonly sampledMs: number
  readonly functions: readonly SelfTime[]
  readonly files: readonly SelfTime[]
}

const root = resolve(import.meta.dirname, '..')

/** The source map of a script the profile names (a `file:` URL with a `.map` beside it), if it has one. */
export type SourceMaps = (url: string) => SourceMap | undefined

/** Source maps read from disk once each: the bundle's, and each chunk's. */
export function sourceMapsOnDisk(): SourceMaps {
  const cache = new Map<string, SourceMap | undefined>()
  return (url) => {
    if (!url.startsWith('file:')) return undefined
    if (!cache.has(url)) {
      const path = `${fileURLToPath(url)}.map`
      cache.set(url, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8'))) : undefined)
    }
    return cache.get(url)
  }
}

/** Self time per function and per source file, over every profile of one label. */
export function summarise(
  label: string,
  profiles: readonly CpuProfile[],
  maps: SourceMaps = () => undefined,
) {
  const byFunction = new Map<string, { name: string; where: string; samples: number }>()
  const byFile = new Map<string, number>()
  let samples = 0
  let sampledMs = 0
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
    sampledMs += (profile.endTime - profile.startTime) / 1000
    for (const id of profile.samples) {
      const frame = nodes.get(id)
      if (frame === undefined) continue
      samples++
      const { name, where, file } = locate(frame, maps)
      const key = `${name} ${where}`
      const entry = byFunction.get(key) ?? { name, where, samples: 0 }
      entry.samples++
      byFunction.set(key, entry)
      byFile.set(file, (byFile.get(file) ?? 0) + 1)
    }
  }
  const toTime = (count: number) => ({
    ms: (count / Math.max(1, samples)) * sampledMs,
    share: count / Math.max(1, samples),
  })
  const functions = [...byFunction.values()]
    .sort((a, b) => b.samples - a.samples)
    .slice(0, 20)
    .map((entry) => ({ name: entry.name, where: entry.where, ...toTime(entry.samples) }))
  const files = [...byFile]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([file, count]) => ({ name: file, where: '', ...toTime(count) }))
  return { label, profiles: profiles.length, sampledMs, functions, files } satisfies ProfileSummary
}

function locate(frame: CallFrame, maps: SourceMaps) {
  const name = frame.functionName || '(anonymous)'
  if (frame.url === '') return { name, where: '', file: name.startsWith('(') ? name : '(native)' }
  const map = maps(frame.url)
  if (map !== undefined) {
    const origin = map.findOrigin(frame.lineNumber + 1, frame.columnNumber + 1)
    if ('fileName' in origin) {
      const file = shortPath(origin.fileName)
      return { name: origin.name || name, where: `${file}:${origin.lineNumber}`, file }
    }
  }
  const file = frame.url.startsWith('node:') ? frame.url : shortPath(frame.url)
  return { name, where: `${file}:${frame.lineNumber + 1}`, file }
}

function shortPath(path: string): string {
  const plain = path.replace(/^file:\/\//, '')
  const modules = plain.lastIndexOf('node_modules/')
  if (modules >= 0) return plain.slice(modules)
  return plain.startsWith('/') ? relative(root, plain) : plain.replace(/^(\.\.\/)+/, '')
}

export function renderSummaries(summaries: readonly ProfileSummary[]): string {
  const lines: string[] = []
  for (const summary of summaries) {
    lines.push(
      `### ${summary.label} (${summary.profiles} profile${summary.profiles === 1 ? '' : 's'}, ${(summary.sampledMs / 1000).toFixed(2)} s sampled)`,
      '',
      '| self | ms | function | where |',
      '| ---: | ---: | --- | --- |',
      ...summary.functions.map(
        (entry) =>
          `| ${(entry.share * 100).toFixed(1)} % | ${entry.ms.toFixed(0)} | \`${entry.name}\` | ${entry.where} |`,
      ),
      '',
      'By source file: ' +
        summary.files.map((entry) => `${entry.name} ${(entry.share * 100).toFixed(1)} %`).join(', ') +
        '.',
      '',
    )
  }
  return lines.join('\n')
}

/** Every profile in `directory`, grouped by label (its name without the run number), summarised. */
export async function summariseProfiles(directory: string): Promise<string> {
  const maps = sourceMapsOnDisk()
  const groups = new Map<string, CpuProfile[]>()
  for (const file of (await readdir(directory)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
    const label = basename(file, '.cpuprofile').replace(/-\d+$/, '')
    const profile = JSON.parse(await readFile(join(directory, file), 'utf8')) as CpuProfile
    groups.set(label, [...(groups.get(label) ?? []), profile])
  }
  const markdown = renderSummaries([...groups].map(([label, profiles]) => summarise(label, profiles, maps)))
  await writeFile(join(directory, 'summary.md'), `# CPU profiles: self time\n\n${markdown}`)
  return markdown
}

if (import.meta.main) {
  const [directory] = process.argv.slice(2)
  if (directory === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts DIR\n')
    process.exitCode = 2
  } else {
    process.stdout.write(`${await summariseProfiles(resolve(directory))}\n`)
  }
}
