/**
 * The cycle's `Logger` on Powertools Logger: structured JSON lines in CloudWatch Logs. Their
 * `service` is POWERTOOLS_SERVICE_NAME when set (the construct sets it per consumer, so two
 * consumers in one account tell apart), else `kafka-consumer-lambda`.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import type { LogAttributes, Logger } from '../ports.ts'

export function createPowertoolsLogger(
  level: string,
  serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'kafka-consumer-lambda',
) {
  const powertools = new PowertoolsLogger({ serviceName, logLevel: level as 'INFO' })
  const log =
    (method: 'debug' | 'info' | 'warn' | 'error') => (message: string, attributes?: LogAttributes) =>
      attributes === undefined
        ? powertools[method](message)
        : powertools[method](message, attributes as never)
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  return { logger, powertools }
}
