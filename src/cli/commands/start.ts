import { loadConfig } from '../../config/schema.ts'
import { createHandler } from '../../lambda/handler.ts'
import { parseInterval, startScheduler } from '../../local/scheduler.ts'
import { type Command, stringOption, UsageError } from '../command.ts'
import { createTerminalLogger } from '../terminal-logger.ts'
import { invocationContext } from './run.ts'

export const startCommand: Command = {
  help: [
    'Usage: lkc start [--every <interval>]',
    '',
    'Invokes the consumer on a schedule, like the EventBridge rule in AWS, never two at once',
    '(a tick that comes while an invocation runs is skipped). Ctrl-C lets the running',
    'invocation stop early and save its offsets, then exits; a second Ctrl-C exits at once.',
    '',
    'Options:',
    "  --every <interval>  500ms, 10s, 1m, 2h ... (default 1m, the seed's schedule)",
  ].join('\n'),
  options: { every: { type: 'string' } },
  readsConfig: true,
  async run(options, env) {
    const every = stringOption(options, 'every') ?? '1m'
    const everyMs = parseInterval(every)
    if (everyMs === undefined)
      throw new UsageError(`--every must look like 500ms, 10s, 1m or 2h (100 ms to 24 h), not "${every}"`)
    const config = loadConfig(env)
    const logger = createTerminalLogger({ level: config.logLevel })
    return runSchedule({ env, everyMs, logger })
  },
}

export interface ScheduleOptions {
  readonly env: NodeJS.ProcessEnv
  readonly everyMs: number
  readonly logger: ReturnType<typeof createTerminalLogger>
  /** Called once stopping begins (the demo stops its producer and the local stack after). */
  readonly onStopping?: () => void
}

/** Runs the handler on a schedule until SIGINT or SIGTERM; returns the exit code. */
export async function runSchedule({ env, everyMs, logger, onStopping }: ScheduleOptions): Promise<number> {
  let stopping = false
  let failures = 0
  const handler = createHandler({ env, logger, shouldStop: () => stopping })
  const config = loadConfig(env)
  logger.info(`Invoking every ${everyMs / 1000} s; Ctrl-C to stop`, { topic: config.kafkaTopic })
  const scheduler = startScheduler({
    everyMs,
    invoke: async () => {
      try {
        await handler(
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
