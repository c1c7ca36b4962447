/**
 * The seed's design in Python (bench/python/seed_consumer.py: confluent-kafka and boto3), the
 * benchmark's second baseline beside kcat: run from the project's virtual environment
 * (.cache/venv, filled by scripts/setup.sh from tools/python/requirements.txt), timed from
 * its start to its exit, as a Lambda invocation's whole process would be.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const python = join(root, '.cache/venv/bin/python')
const script = join(import.meta.dirname, 'python/seed_consumer.py')

export interface SeedDesignRun {
  readonly messages: number
  /** Interpreter start to exit. */
  readonly wallMs: number
  /** After the imports: clients, offsets Query, assign, consume, PutItems, close. */
  readonly drainMs: number
  readonly importMs: number
  readonly peakRssKb: number
}

/** The Python interpreter and packages' versions; throws with the fix when they are missing. */
export function ensureSeedDesign(): string {
  const check = existsSync(python)
    ? spawnSync(
        python,
        [
          '-c',
          'import sys, confluent_kafka, boto3; print(sys.version.split()[0], confluent_kafka.__version__, confluent_kafka.libversion()[0], boto3.__version__)',
        ],
        { encoding: 'utf8' },
      )
    : undefined
  if (check === undefined || check.status !== 0) {
    throw new Error(
      `The Python baseline needs confluent-kafka and boto3 in ${python} (${check?.stderr.trim() || 'no virtual environment'}). ` +
        'Run `bash scripts/setup.sh` (it installs tools/python/requirements.txt there), then `npm run bench` again.',
    )
  }
  const [version, client, librdkafka, boto3] = check.stdout.trim().split(' ')
  return `Python ${version}, confluent-kafka ${client} (librdkafka ${librdkafka}), boto3 ${boto3}`
}

export async function runSeedDesign(env: Readonly<Record<string, string>>): Promise<SeedDesignRun> {
  const started = performance.now()
  const child = spawn(python, [script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 10_000) stderr += chunk
  })
  let wallMs = Number.NaN
  child.once('exit', () => {
    wallMs = performance.now() - started
  })
  // 'close' comes after 'exit', once the output is all read.
  const code = await new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode) => resolveExit(exitCode))
  })
  if (code !== 0) throw new Error(`the Python baseline exited with ${code}: ${stderr.trim()}`)
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Omit<SeedDesignRun, 'wallMs'>
  return { ...result, wallMs }
}
