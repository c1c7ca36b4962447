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

describe('createLoggingProcessor with the logger’s level known', () => {
  /** A message that counts how often its key, value and headers are read. */
  function countingMessage() {
    const reads = { key: 0, value: 0, headers: 0 }
    const counted = {
      ...message,
      get key() {
        reads.key++
        return message.key
      },
      get value() {
        reads.value++
        return message.value
      },
      get headers() {
        reads.headers++
        return message.headers
      },
    }
    return { counted, reads }
  }

  it('at WARN builds and logs nothing for a message (its key, value and headers are never read)', async () => {
    const logger = new RecordingLogger()
    const { counted, reads } = countingMessage()

    await createLoggingProcessor(logger, { isLevelEnabled: () => false })(counted)

    expect(logger.entries).toEqual([])
    expect(reads).toEqual({ key: 0, value: 0, headers: 0 })
  })

  it('at INFO logs the position and key, and never reads the content for the DEBUG line it would drop', async () => {
    const logger = new RecordingLogger()
    const { counted, reads } = countingMessage()

    await createLoggingProcessor(logger, { isLevelEnabled: (level) => level === 'info' })(counted)

    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: 'Processed message',
        attributes: { topic: 'orders', partition: 2, offset: 41, key: 'order-41' },
      },
    ])
    expect(reads).toEqual({ key: 1, value: 0, headers: 0 })
  })

  it('at DEBUG with logContent: false logs the position only', async () => {
    const logger = new RecordingLogger()

    await createLoggingProcessor(logger, { logContent: false, isLevelEnabled: () => true })(message)

    expect(logger.entries.map((entry) => entry.message)).toEqual(['Processed message'])
  })
})
