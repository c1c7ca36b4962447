/** Runs `lkc` as a user would: a separate Node process, its output and exit code captured. */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'

const main = resolve(import.meta.dirname, '../../src/cli/main.ts')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  durationMs: number
}

export function lkc(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = performance.now()
  return new Promise((resolveResult) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolveResult({ code, stdout, stderr, durationMs: performance.now() - started })
      },
    )
  })
}
