/**
 * kcat (Debian package `kcat`, native librdkafka): the baseline every throughput figure is
 * compared with, and the fastest way found to produce the benchmark's backlog (see README).
 * Installed here on first use when the machine lets us (root with apt-get); otherwise the
 * error names the command that installs it.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { watchPeakRss } from './peak-rss.ts'

export class KcatMissingError extends Error {
  override readonly name = 'KcatMissingError'
}

/** kcat's version line; installs kcat with apt-get when it is missing and we run as root. */
export function ensureKcat(log: (line: string) => void): string {
  const version = kcatVersion()
  if (version !== undefined) return version
  const root = process.getuid?.() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new KcatMissingError(
      'kcat is not installed and this process cannot install it (needs root and apt-get). ' +
        'Install it with `sudo apt-get install kcat` (Debian/Ubuntu; `brew install kcat` on macOS), then run `npm run bench` again.',
    )
  }
  log('kcat is missing: installing the Debian package `kcat` with apt-get')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', 'kcat'], { env, stdio: 'inherit' })
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' })
    install()
  }
  const installed = kcatVersion()
  if (installed === undefined) {
    throw new KcatMissingError(
      '`apt-get install kcat` did not install a working kcat. Install it by hand (`apt-get update && apt-get install kcat`) and run `npm run bench` again.',
    )
  }
  return installed
}

function kcatVersion(): string | undefined {
  const result = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  if (result.status !== 0 || result.error !== undefined) return undefined
  const kcat = /Version (\S+)/.exec(result.stdout)?.[1]
  const librdkafka = /librdkafka (\S+)/.exec(result.stdout)?.[1]
  return `kcat ${kcat ?? '(unknown version)'}${librdkafka ? ` (librdkafka ${librdkafka})` : ''}`
}

/**
 * Produces one message per line of `chunks` (no key, librdkafka's default partitioner) and
 * resolves with the elapsed milliseconds, from the first byte written to kcat's exit.
 */
export async function produceWithKcat(
  bootstrapServers: string,
  topic: string,
  chunks: Iterable<string>,
): Promise<number> {
  const started = performance.now()
  const child = spawn(
    'kcat',
    ['-P', '-b', bootstrapServers, '-t', topic, '-X', 'queue.buffering.max.messages=1000000'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  )
  const stderr = collect(child.stderr)
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => resolve(code))
  })
  for (const chunk of chunks) {
    if (!child.stdin.write(chunk)) await new Promise<void>((resolve) => child.stdin.once('drain', resolve))
  }
  child.stdin.end()
  const code = await exited
  if (code !== 0) throw new Error(`kcat -P exited with ${code}: ${(await stderr).trim()}`)
  return performance.now() - started
}

/**
 * Consumes the topic from the beginning to its end and exits (`-o beginning -e -q`), output
 * to /dev/null; resolves with the elapsed milliseconds, process start to exit, and its peak RSS.
 */
export async function consumeWithKcat(
  bootstrapServers: string,
  topic: string,
): Promise<{ elapsedMs: number; peakRssKb: number }> {
  const started = performance.now()
  const child = spawn('kcat', ['-C', '-b', bootstrapServers, '-t', topic, '-o', 'beginning', '-e', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const rss = watchPeakRss(child.pid)
  const stderr = collect(child.stderr)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (exitCode) => resolve(exitCode))
  })
  const elapsedMs = performance.now() - started
  const peakRssKb = rss.stop()
  if (code !== 0) throw new Error(`kcat -C exited with ${code}: ${(await stderr).trim()}`)
  return { elapsedMs, peakRssKb }
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      if (text.length < 10_000) text += chunk
    })
    stream.on('end', () => resolve(text))
  })
}
