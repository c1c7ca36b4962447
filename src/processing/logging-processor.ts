/**
 * The default processor, as the seed's: it logs each message. Topic, partition, offset and
 * key at INFO; the content only at DEBUG, so message data stays out of the logs by default,
 * and never with `logContent: false` (LOG_MESSAGE_CONTENT=false).
 *
 * What the logger's level filters out is not built: at WARN (or with INFO off and the content
 * off) the processor does nothing per message, as a no-op processor would.
 */
import type { Logger } from '../ports.ts'
import type { ProcessMessage } from './message.ts'

export interface LoggingProcessorOptions {
  /** false: never log a message's value or headers, at any level. Default: true (at DEBUG). */
  readonly logContent?: boolean
  /**
   * Whether the logger writes lines at a level, asked once when the processor is built. Default:
   * every line is handed to the logger, which decides.
   */
  readonly isLevelEnabled?: (level: 'debug' | 'info') => boolean
}

export function createLoggingProcessor(
  logger: Logger,
  options: LoggingProcessorOptions = {},
): ProcessMessage {
  const enabled = options.isLevelEnabled ?? (() => true)
  const logPosition = enabled('info')
  const logContent = (options.logContent ?? true) && enabled('debug')
  if (!logPosition && !logContent) return () => {}
  return (message) => {
    const position = { topic: message.topic, partition: message.partition, offset: message.offset }
    if (logPosition) logger.info('Processed message', { ...position, key: message.key })
    if (logContent) {
      logger.debug('Message content', {
        ...position,
        value: message.value,
        headers: message.headers.toJSON(),
      })
    }
  }
}
