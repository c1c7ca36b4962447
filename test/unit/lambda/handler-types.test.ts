/**
 * The types a processor sees, checked by `npm run typecheck` (expectTypeOf fails to compile on a
 * mismatch) and run as ordinary tests: the value's type follows the handler's `schema`.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as z from 'zod/mini'
import { createHandler } from '../../../src/lambda/handler.ts'
import type { KafkaMessage, MessageHeaders } from '../../../src/processing/message.ts'

describe('createHandler types', () => {
  it("types message.value from the schema's output, null for a tombstone", () => {
    const Order = z.object({ orderId: z.number(), item: z.string() })
    const handler = createHandler({
      env: {},
      schema: Order,
      process(message) {
        expectTypeOf(message.value).toEqualTypeOf<{ orderId: number; item: string } | null>()
        expectTypeOf(message.key).toEqualTypeOf<string | null>()
        expectTypeOf(message.headers).toEqualTypeOf<MessageHeaders>()
      },
    })

    expect(typeof handler).toBe('function')
  })

  it('takes a declared value and key type without a schema; the filter sees unknown', () => {
    const handler = createHandler<{ n: number }, Buffer>({
      env: {},
      filter: (message) => {
        expectTypeOf(message).toEqualTypeOf<KafkaMessage<unknown, unknown>>()
        return true
      },
      processBatch(messages) {
        expectTypeOf(messages[0]!.value).toEqualTypeOf<{ n: number } | null>()
        expectTypeOf(messages[0]!.key).toEqualTypeOf<Buffer | null>()
      },
    })

    expect(typeof handler.close).toBe('function')
  })
})
