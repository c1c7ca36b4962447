/**
 * The default processor, as the seed's: it logs each message. Topic, partition, offset and
 * key at INFO; the content only at DEBUG, so message data stays out of the logs by default,
 * and never with `logContent: false` (LOG_MESSAGE_CONTENT=false).
 */
import type { Logger } from '../cycle/ports.ts'
import type { ProcessMessage } from './message.ts'

export interface LoggingProcessorOptions {
  /** false: never log a message's value or headers, at any level. Default: true (at DEBUG). */
  readonly logContent?: boolean
}

export function createLoggingProcessor(
  logger: Logger,
  options: LoggingProcessorOptions = {},
): ProcessMessage {
  const logContent = options.logContent ?? true
  return (message) => {
    const position = { topic: message.topic, partition: message.partition, offset: message.offset }
    logger.info('Processed message', { ...position, key: message.key })
    if (logContent) {
      logger.debug('Message content', {
        ...position,
        value: message.value,
        headers: message.headers.toJSON(),
      })
    }
  }
}
