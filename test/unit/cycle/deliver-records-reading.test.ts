/**
 * deliverRecords with the reader's outcomes: messages the filter leaves out, values the schema
 * rejects, and a schema registry out of reach (the partition stops, nothing is dead-lettered).
 */
import { describe, expect, it } from 'vitest'
import * as z from 'zod/mini'
import { deliverRecords } from '../../../src/cycle/deliver-records.ts'
import { LambdaKafkaConsumerError } from '../../../src/errors.ts'
import type { Processor } from '../../../src/processing/message.ts'
import { createMessageReader, type MessageReader } from '../../../src/processing/message-reader.ts'
import { deliveryContext } from '../../support/delivery-context.ts'
import { record } from '../../support/fakes.ts'

const context = (processor: Processor, reader: MessageReader) => deliveryContext(processor, { reader })

const order = (offset: number, kind: string) => record(offset, JSON.stringify({ offset, kind }))
const onlyOrders = createMessageReader({
  filter: (message) => (message.value as { kind?: string }).kind === 'order',
})

describe('deliverRecords: filtered messages', () => {
  it('one at a time: a filtered message is done with, in its place, and never processed', async () => {
    const processed: number[] = []
    const { context: ctx, done } = context(
      { process: (message) => void processed.push(message.offset) },
      onlyOrders,
    )

    const result = await deliverRecords([order(0, 'order'), order(1, 'test'), order(2, 'order')], ctx)

    expect(result).toEqual({ complete: true })
    expect(processed).toEqual([0, 2])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'filtered'],
      [2, 'processed'],
    ])
  })

  it('in batches: left out of the batch, done with in offset order after it', async () => {
    const batches: number[][] = []
    const { context: ctx, done } = context(
      { processBatch: (messages) => void batches.push(messages.map((message) => message.offset)) },
      onlyOrders,
    )

    await deliverRecords([order(0, 'test'), order(1, 'order'), order(2, 'test'), order(3, 'order')], ctx)

    expect(batches).toEqual([[1, 3]])
    expect(done).toEqual([
      [0, 'filtered'],
      [1, 'processed'],
      [2, 'filtered'],
      [3, 'processed'],
    ])
  })

  it('in batches: a batch left out whole calls no processor', async () => {
    let calls = 0
    const { context: ctx, done } = context({ processBatch: () => void calls++ }, onlyOrders)

    await deliverRecords([order(0, 'test'), order(1, 'test')], ctx)

    expect(calls).toBe(0)
    expect(done).toEqual([
      [0, 'filtered'],
      [1, 'filtered'],
    ])
  })
})

describe('deliverRecords: values the schema rejects', () => {
  it('dead-letters them at once with reason schema and the validator message', async () => {
    const processed: number[] = []
    const reader = createMessageReader({ schema: z.object({ offset: z.number(), kind: z.literal('order') }) })
    const {
      context: ctx,
      done,
      deadLetters,
    } = context({ process: (m) => void processed.push(m.offset) }, reader)

    await deliverRecords([order(0, 'order'), order(1, 'refund')], ctx)

    expect(processed).toEqual([0])
    expect(done).toEqual([
      [0, 'processed'],
      [1, 'dead-lettered'],
    ])
    expect(deadLetters.letters[0]).toMatchObject({
      offset: 1,
      reason: 'schema',
      attempts: 0,
      error: { message: expect.stringContaining('the value does not match the schema: kind: Invalid input') },
    })
  })
})

describe('deliverRecords: a schema registry out of reach', () => {
  class RegistryDown extends LambdaKafkaConsumerError {}
  /** Reads offsets below 2; from 2 on, the registry cannot be reached. */
  const flaky: MessageReader = {
    prepare: () => undefined,
    read(topic, partition, fetched) {
      if (fetched.offset >= 2)
        throw new RegistryDown('the schema registry did not answer in 5000 ms', { retriable: true })
      return createMessageReader().read(topic, partition, fetched)
    },
  }

  it('stops the partition before the message, dead-letters nothing, and says why', async () => {
    const { context: ctx, done, deadLetters } = context({ process: () => {} }, flaky)

    const result = await deliverRecords(
      [order(0, 'order'), order(1, 'order'), order(2, 'order'), order(3, 'order')],
      ctx,
    )

    expect(result.complete).toBe(false)
    expect(result.failure).toMatchObject({
      partition: 0,
      offset: 2,
      reason: 'the schema registry did not answer in 5000 ms',
    })
    expect(done.map(([offset]) => offset)).toEqual([0, 1])
    expect(deadLetters.letters).toEqual([])
  })

  it('waits for prepare before the first message', async () => {
    const steps: string[] = []
    const reader: MessageReader = {
      prepare: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        steps.push('prepared')
      },
      read: (topic, partition, fetched) => {
        steps.push(`read ${fetched.offset}`)
        return createMessageReader().read(topic, partition, fetched)
      },
    }
    const { context: ctx } = context({ process: () => {} }, reader)

    await deliverRecords([order(0, 'order'), order(1, 'order')], ctx)

    expect(steps).toEqual(['prepared', 'read 0', 'read 1'])
  })
})
