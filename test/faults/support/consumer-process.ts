/**
 * One invocation in its own process, as Lambda runs one: the fault suite starts it, may
 * SIGKILL it, and reads what it did from the outside. The processor's side effect is one line
 * per processed message appended to FAULT_LOG (`run<TAB>partition<TAB>offset<TAB>key`), written
 * before the processor returns, so it survives a SIGKILL as a real side effect would.
 *
 * Processor behaviour, from the environment:
 *   FAULT_SLOW_MS     wait this long in each call (a slow downstream)
 *   FAULT_FAIL_KEYS   a regular expression: messages whose key matches always throw
 *   FAULT_FLAKY_KEYS  a regular expression: messages whose key matches throw on their first call
 *   FAULT_PAUSE_FILE  while this file exists, each call waits (a downstream that stalls while
 *                     the test changes the cluster under the run: the run's own timers go on)
 *
 * Prints `RESULT <report JSON>` or `FAILED <error JSON>` as its last line; exit code 0 or 1.
 */
import { existsSync, openSync, writeSync } from 'node:fs'
import { invocationContext } from '../../../src/cli/commands/run.ts'
import { loadConfig } from '../../../src/config/schema.ts'
import { messageOf } from '../../../src/errors.ts'
import { createHandler } from '../../../src/lambda/handler.ts'

const env = process.env
const log = openSync(env.FAULT_LOG ?? '/dev/null', 'a')
const runId = env.FAULT_RUN_ID ?? String(process.pid)
const slowMs = Number(env.FAULT_SLOW_MS ?? 0)
const failKeys = env.FAULT_FAIL_KEYS ? new RegExp(env.FAULT_FAIL_KEYS) : undefined
const flakyKeys = env.FAULT_FLAKY_KEYS ? new RegExp(env.FAULT_FLAKY_KEYS) : undefined
const flakyFailed = new Set<string>()
const pauseFile = env.FAULT_PAUSE_FILE
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const handler = createHandler({
  env,
  async process(message) {
    if (slowMs > 0) await sleep(slowMs)
    while (pauseFile !== undefined && existsSync(pauseFile)) await sleep(20)
    const key = message.key ?? ''
    if (failKeys?.test(key)) throw new Error(`the processor refuses ${key}`)
    if (flakyKeys?.test(key) && !flakyFailed.has(key)) {
      flakyFailed.add(key)
      throw new Error(`the processor failed once on ${key}`)
    }
    writeSync(log, `${runId}\t${message.partition}\t${message.offset}\t${key}\n`)
  },
})

try {
  const report = await handler({}, invocationContext(loadConfig(env)))
  process.stdout.write(`\nRESULT ${JSON.stringify(report)}\n`)
  process.exitCode = 0
} catch (error) {
  const name = error instanceof Error ? error.name : 'Error'
  process.stdout.write(`\nFAILED ${JSON.stringify({ name, message: messageOf(error) })}\n`)
  process.exitCode = 1
} finally {
  await handler.close()
}
