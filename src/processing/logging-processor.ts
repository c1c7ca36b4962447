/**
 * The default processor, as the seed's: it logs each message. Topic, partition, offset and
 * key at INFO; the content only at DEBUG, so message data stays out of the logs by default.
 */
import type { Logger } from '../cycle/ports.ts'
import type { ProcessMessage } from './message.ts'

export function createLoggingProcessor(logger: Logger): ProcessMessage {
  return (message) => {
    const position = { topic: message.topic, partition: message.partition, offset: message.offset }
    logger.info('Processed message', { ...position, key: message.key })
    logger.debug('Message content', { ...position, value: message.value, headers: message.headers })
  }
}
