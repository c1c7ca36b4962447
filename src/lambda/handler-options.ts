/**
 * Where a handler made by `createHandler` keeps the options it was made with, so that
 * `lkc run --handler ./my-handler.ts` can make the same handler again with the terminal's logger
 * and progress bar. A registered symbol: the handler and `lkc` agree on it even when they come
 * from two copies of the package.
 */
import type { HandlerOptions } from './handler.ts'

export const HANDLER_OPTIONS: unique symbol = Symbol.for('lambda-kafka-consumer.handler-options')

/** The options a handler was made with, or `undefined` for a function `createHandler` did not make. */
export function handlerOptionsOf(value: unknown): HandlerOptions | undefined {
  if (typeof value !== 'function') return undefined
  const options = (value as unknown as Record<symbol, unknown>)[HANDLER_OPTIONS]
  return typeof options === 'object' && options !== null ? (options as HandlerOptions) : undefined
}
