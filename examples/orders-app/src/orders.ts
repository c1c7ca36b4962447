/**
 * The team's processor: what to do with one order from the `orders` topic. Everything else
 * (offsets, retries, dead letters, the schedule) is the package's.
 */
import type { KafkaMessage } from 'lambda-kafka-consumer'

export interface Order {
  readonly orderId: number
  readonly item: string
  readonly quantity: number
}

/** Where processed orders go; in production a table or an API, here a line on stdout. */
export type OrderSink = (line: string) => void

/** Checks the message is an order; throwing sends it to the dead-letter destination after the retries. */
export function parseOrder(value: unknown): Order {
  const order = value as Partial<Order> | null
  if (
    order === null ||
    typeof order !== 'object' ||
    !Number.isInteger(order.orderId) ||
    typeof order.item !== 'string' ||
    !Number.isInteger(order.quantity) ||
    (order.quantity ?? 0) < 1
  ) {
    throw new Error(`not an order: ${JSON.stringify(value)}`)
  }
  return { orderId: order.orderId!, item: order.item, quantity: order.quantity! }
}

export function orderProcessor(sink: OrderSink = (line) => console.log(line)) {
  return async (message: KafkaMessage<Order>): Promise<void> => {
    const order = parseOrder(message.value)
    sink(
      `order ${order.orderId}: ${order.quantity} x ${order.item} (partition ${message.partition}, offset ${message.offset})`,
    )
  }
}
