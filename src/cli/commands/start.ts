import { loadConfig } from '../../config/schema.ts'
import { parseInterval, startScheduler } from '../../local/scheduler.ts'
import { type Command, stringOption, UsageError } from '../command.ts'
import { createTerminalLogger } from '../terminal-logger.ts'
import { loadHandler } from '../user-handler.ts'
import { invocationContext } from './run.ts'

export const startCommand: Command = {
  help: [
    'Usage: lkc start [--every <interval>] [--handler <file>]',
    '',
    'Invokes the consumer on a schedule, like the EventBridge rule in AWS, never two at once',
    '(a tick that comes while an invocation runs is skipped). Ctrl-C lets the running',
    'invocation stop early and save its offsets, then exits; a second Ctrl-C exits at once.',
    '',
    'Options:',
    "  --every <interval>  500ms, 10s, 1m, 2h ... (default 1m, the seed's schedule)",
    '  --handler <file>    your module exporting `handler` (TypeScript or JavaScript);',
    '                      default: the logging handler (logs each message)',
  ].join('\n'),
  options: { every: { type: 'string' }, handler: { type: 'string' } },
  readsConfig: true,
  async run(options, env) {
    const every = stringOption(options, 'every') ?? '1m'
    const everyMs = parseInterval(every)
    if (everyMs === undefined)
      throw new UsageError(`--every must look like 500ms, 10s, 1m or 2h (100 ms to 24 h), not "${every}"`)
    const config = loadConfig(env)
    const logger = createTerminalLogger({ level: config.logLevel })
    const handlerFile = stringOption(options, 'handler')
    return runSchedule({ env, everyMs, logger, ...(handlerFile !== undefined && { handlerFile }) })
  },
}

export interface ScheduleOptions {
  readonly env: NodeJS.ProcessEnv
  readonly everyMs: number
  readonly logger: ReturnType<typeof createTerminalLogger>
  /** A module exporting `handler` to invoke instead of the logging handler. */
  readonly handlerFile?: string
  /** Called once stopping begins (the demo stops its producer and the local stack after). */
  readonly onStopping?: () => void
}

/** Runs the handler on a schedule until SIGINT or SIGTERM; returns the exit code. */
export async function runSchedule({
  env,
  everyMs,
  logger,
  handlerFile,
  onStopping,
}: ScheduleOptions): Promise<number> {
  let stopping = false
  let failures = 0
  const handler = await loadHandler(handlerFile, { env, logger, shouldStop: () => stopping })
  const config = loadConfig(env)
  logger.info(`Invoking every ${everyMs / 1000} s; Ctrl-C to stop`, {
    topic: config.kafkaTopic,
    ...(handler.file !== undefined && { handler: handler.file }),
  })
  const scheduler = startScheduler({
    everyMs,
    invoke: async () => {
      try {
        await handler.handler(
          { source: 'lkc.scheduler', 'detail-type': 'Scheduled Event' },
          invocationContext(config),
        )
      } catch {
        failures++ // logged by the handler; the schedule goes on, as EventBridge's would
      }
    },
    onSkip: () =>
      logger.warn('Previous invocation still running; skipping this tick (as reserved concurrency 1 would)'),
  })
  const stop = () => {
    if (stopping) {
      logger.warn('Stopping now, without waiting for the invocation to save')
      process.exit(130)
    }
    stopping = true
    logger.info('Stopping: the running invocation saves its offsets first (Ctrl-C again to force)')
    onStopping?.()
    void scheduler.stop()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  await scheduler.done
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  await handler.close()
  logger.info('Stopped', { failedInvocations: failures })
  return 0
}
