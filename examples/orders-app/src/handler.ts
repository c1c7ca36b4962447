/** The Lambda handler the construct bundles (`entry`), and that `lkc run --handler` runs locally. */
import { createHandler } from 'lambda-kafka-consumer'
import { type Order, orderProcessor } from './orders.ts'

export const handler = createHandler<Order>({ process: orderProcessor() })
