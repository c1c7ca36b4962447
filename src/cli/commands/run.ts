import { ConfigError } from '../../config/errors.ts'
import { type Config, loadConfig } from '../../config/schema.ts'
import { type Command, stringOption } from '../command.ts'
import { createProgressBar, progressBarWanted } from '../progress-bar.ts'
import { createTerminalLogger } from '../terminal-logger.ts'
import { loadHandler } from '../user-handler.ts'

/**
 * One invocation of the Lambda handler's code, here. The time budget is
 * INVOCATION_TIMEOUT_MS, as the function's timeout is in Lambda.
 */
export const runCommand: Command = {
  help: [
    'Usage: lkc run [--handler <file>]',
    '',
    "Runs one invocation of the consumer (the Lambda handler's code) against the configured",
    'Kafka topic and offsets table, prints the run summary, and exits:',
    '  0  the run finished (nothing failed)',
    '  1  a message failed, Kafka or DynamoDB failed (the error says which and what to do)',
    '  2  the configuration is invalid',
    '',
    'Options:',
    '  --handler <file>  your module exporting `handler` (TypeScript or JavaScript), e.g.',
    '                    ./src/handler.ts; default: the logging handler (logs each message)',
  ].join('\n'),
  options: { handler: { type: 'string' } },
  readsConfig: true,
  async run(options, env) {
    const config = loadConfig(env)
    const bar = progressBarWanted(process.stderr, env)
      ? createProgressBar((text) => process.stderr.write(text))
      : undefined
    // A log line takes the bar's place; the bar comes back at the next fetch round.
    const logger = createTerminalLogger({
      level: config.logLevel,
      write: (line) => {
        bar?.clear()
        process.stderr.write(`${line}\n`)
      },
    })
    const handler = await loadHandler(stringOption(options, 'handler'), {
      env,
      logger,
      ...(bar && { onProgress: (progress) => bar.update(progress) }),
    })
    try {
      await handler.handler({}, invocationContext(config))
      return 0
    } catch (error) {
      // The handler has logged the error and the summary. A credential file that cannot be read is bad config.
      return error instanceof ConfigError ? 2 : 1
    } finally {
      bar?.clear()
      await handler.close()
    }
  },
}

/** A Lambda-like context whose deadline is INVOCATION_TIMEOUT_MS from now. */
export function invocationContext(config: Pick<Config, 'invocationTimeoutMs'>) {
  const deadline = Date.now() + config.invocationTimeoutMs
  return {
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    awsRequestId: `local-${Date.now()}`,
  }
}
