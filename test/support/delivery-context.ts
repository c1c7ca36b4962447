/**
 * A `DeliveryContext` for unit tests of `deliverRecords`: fakes for the dead letters, logs and
 * metrics, no clock or deadline unless a test gives them, and the outcomes recorded in order.
 */
import type { DeliveryContext, Outcome } from '../../src/cycle/deliver-records.ts'
import type { Processor } from '../../src/processing/message.ts'
import { InMemoryDeadLetterSink, RecordingLogger, RecordingMetrics } from './fakes.ts'

export function deliveryContext(processor: Processor, overrides: Partial<DeliveryContext> = {}) {
  const done: Array<[number, Outcome]> = []
  const deadLetters = new InMemoryDeadLetterSink()
  const context: DeliveryContext = {
    topic: 'orders',
    consumerId: 'group_orders',
    partition: 0,
    processor,
    deadLetters,
    policy: { attempts: 2, retryDelayMs: 5 },
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
    clock: () => 0,
    sleep: async () => {},
    deadline: Number.POSITIVE_INFINITY,
    shouldStop: () => false,
    onDone: (offset, outcome) => void done.push([offset, outcome]),
    ...overrides,
  }
  return { context, done, deadLetters }
}
