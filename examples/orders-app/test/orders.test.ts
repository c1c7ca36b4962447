/** The processor alone, without Kafka: messages built with lambda-kafka-consumer/testing. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { kafkaMessage } from 'lambda-kafka-consumer/testing'
import { type Order, orderProcessor } from '../src/orders.ts'

describe('orderProcessor', () => {
  it('records a valid order with where it came from', async () => {
    const lines: string[] = []
    const process = orderProcessor((line) => lines.push(line))

    await process(kafkaMessage<Order>({ orderId: 7, item: 'tea', quantity: 3 }, { partition: 2, offset: 41 }))

    assert.deepEqual(lines, ['order 7: 3 x tea (partition 2, offset 41)'])
  })

  it('refuses what is not an order, so that it is retried and then dead-lettered', async () => {
    const process = orderProcessor(() => assert.fail('nothing should be recorded'))

    await assert.rejects(
      process(kafkaMessage({ orderId: 8, item: 'tea', quantity: 0 } as Order)),
      /not an order: \{"orderId":8,"item":"tea","quantity":0\}/,
    )
  })
})
