/**
 * moto's server (the AWS APIs in memory, on loopback) from the project's Python tools, for the
 * Secrets Manager tests. Stopped with `stop()`; a small shell guard also stops it when this
 * process ends, however it ends (its stdin pipe closes).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { freePort } from '../../src/local/kafka-broker.ts'

const motoServer = resolve(import.meta.dirname, '../../.cache/venv/bin/moto_server')

export interface MotoServer {
  readonly endpoint: string
  stop(): Promise<void>
}

// Background jobs get /dev/null as stdin, so the pipe is kept on fd 3 for the watcher.
const GUARD = `exec 3<&0
"$@" 3<&- & server=$!
( while read -r _ <&3; do :; done; kill $server 2>/dev/null ) &
exec 3<&-
wait $server`

export async function startMotoServer(): Promise<MotoServer> {
  if (!existsSync(motoServer)) {
    throw new Error(`${motoServer} is missing: run \`npm run setup\` (it installs the Python tools).`)
  }
  const port = await freePort()
  const child = spawn(
    'bash',
    ['-c', GUARD, 'moto-guard', motoServer, '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  )
  const endpoint = `http://127.0.0.1:${port}`
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`)
      if (response.ok || response.status < 500) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill()
      throw new Error(`moto_server did not start on ${endpoint}`)
    }
    await new Promise((wait) => setTimeout(wait, 200))
  }
  return {
    endpoint,
    async stop() {
      child.stdin?.end()
      await exited
    },
  }
}
