import { describe, expect, it } from 'vitest'
import { createLoggingProcessor } from '../../../src/processing/logging-processor.ts'
import type { KafkaMessage } from '../../../src/processing/message.ts'
import { messageHeadersOf } from '../../../src/processing/message-headers.ts'
import { RecordingLogger } from '../../support/fakes.ts'

const message: KafkaMessage = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1_700_000_000_000,
  key: 'order-41',
  value: { customer: 'jane@example.com', card: '4111-1111' },
  headers: messageHeadersOf([[Buffer.from('trace'), Buffer.from('abc')]]),
  raw: { key: null, value: null, headers: [[Buffer.from('trace'), Buffer.from('abc')]] },
}

describe('createLoggingProcessor', () => {
  it('logs position and key at INFO, the content only at DEBUG', async () => {
    const logger = new RecordingLogger()

    await createLoggingProcessor(logger)(message)

    expect(logger.at('info')).toEqual([
      {
        level: 'info',
        message: 'Processed message',
        attributes: { topic: 'orders', partition: 2, offset: 41, key: 'order-41' },
      },
    ])
    expect(logger.at('debug')).toEqual([
      {
        level: 'debug',
        message: 'Message content',
        attributes: {
          topic: 'orders',
          partition: 2,
          offset: 41,
          value: message.value,
          headers: Object.assign(Object.create(null), { trace: 'abc' }),
        },
      },
    ])
  })

  it('never logs the content with logContent: false (LOG_MESSAGE_CONTENT=false), at any level', async () => {
    const logger = new RecordingLogger()

    await createLoggingProcessor(logger, { logContent: false })(message)

    expect(logger.entries.map((entry) => entry.message)).toEqual(['Processed message'])
    expect(JSON.stringify(logger.entries)).not.toContain('jane@example.com')
    expect(JSON.stringify(logger.entries)).not.toContain('trace')
  })
})
