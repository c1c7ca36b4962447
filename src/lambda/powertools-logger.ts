/**
 * The cycle's `Logger` on Powertools Logger: structured JSON lines in CloudWatch Logs. Their
 * `service` is POWERTOOLS_SERVICE_NAME when set (the construct sets it per consumer, so two
 * consumers in one account tell apart), else `kafka-consumer-lambda`.
 *
 * A line below the logger's level costs nothing here: its method is a no-op, so neither
 * Powertools nor the caller does any work for it. Powertools itself reads `process.env` twice on
 * every call, a filtered one included (the X-Ray trace id, then whether Lambda runs invocations
 * concurrently), about a fifth of a drain's CPU when the default processor logs each message at
 * a level that is filtered out (bench/README.md, "Where the time goes").
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import type { LogAttributes, Logger } from '../ports.ts'

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error'

/** Powertools' numeric thresholds (its `LogLevelThreshold`): a line is written at or above the level. */
const THRESHOLDS: Readonly<Record<LogLevelName, number>> = { debug: 8, info: 12, warn: 16, error: 20 }

const discard = () => {}

export function createPowertoolsLogger(
  level: string,
  serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'kafka-consumer-lambda',
) {
  const powertools = new PowertoolsLogger({ serviceName, logLevel: level as 'INFO' })
  // Read once: the level this logger writes at is settled when it is built (LOG_LEVEL, or
  // AWS_LAMBDA_LOG_LEVEL and debug sampling, which Powertools applies in its constructor), and
  // nothing calls setLogLevel or re-samples it afterwards. Reading it costs Powertools an
  // environment lookup each time.
  const threshold = powertools.level
  const isEnabled = (method: LogLevelName) => THRESHOLDS[method] >= threshold
  const log = (method: LogLevelName) =>
    isEnabled(method)
      ? (message: string, attributes?: LogAttributes) =>
          attributes === undefined
            ? powertools[method](message)
            : powertools[method](message, attributes as never)
      : discard
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  return { logger, powertools, isEnabled }
}
