/**
 * The Lambda entry point, invoked every minute by EventBridge. Wiring only: configuration
 * from the environment, the adapters from `createRuntime`, then one `runCycle`.
 *
 *   export const handler = createHandler({ process: async (message) => { ... } })
 *
 * Everything built here is kept across warm invocations (Kafka connections, the DynamoDB
 * client); the run stops fetching `TIMEOUT_MARGIN_MS` before the function's timeout.
 */
import { type Config, consumerIdOf, type Environment, loadConfig, unknownKeys } from '../config/schema.ts'
import { failureOf } from '../cycle/errors.ts'
import type { Logger } from '../cycle/ports.ts'
import { type CycleSummary, runCycle } from '../cycle/run-cycle.ts'
import { messageOf } from '../errors.ts'
import { createLoggingProcessor } from '../processing/logging-processor.ts'
import type { ProcessBatch, ProcessMessage, Processor } from '../processing/message.ts'
import { createRuntime, type Runtime } from '../runtime/create-runtime.ts'
import { createPowertoolsLogger } from './powertools-logger.ts'

export interface HandlerOptions<Value = unknown> {
  /** Your processor, one message at a time. Default: log each message, as the seed does. */
  readonly process?: ProcessMessage<Value>
  /** Or your processor for each partition's batch of messages. */
  readonly processBatch?: ProcessBatch<Value>
  /** Default: Powertools Logger, JSON lines. */
  readonly logger?: Logger
  /** Default: `process.env`. */
  readonly env?: Environment
  /** Asked between messages; true ends the run early, offsets saved (Ctrl-C in `lkc start`). */
  readonly shouldStop?: () => boolean
}

/** The slice of Lambda's context the handler uses, so `lkc` can invoke it the same way. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number
  readonly awsRequestId?: string
}

/** What an invocation returns, and logs as its one summary line. */
export interface RunReport extends Omit<CycleSummary, 'failures' | 'error'> {
  readonly failures: ReadonlyArray<{
    readonly partition: number
    readonly offset: number
    readonly reason: string
  }>
}

export interface ConsumerHandler {
  (event: unknown, context: InvocationContext): Promise<RunReport>
  /** Closes the Kafka connections and the DynamoDB client (for `lkc` and tests; Lambda never needs it). */
  close(): Promise<void>
}

export function createHandler<Value = unknown>(options: HandlerOptions<Value> = {}): ConsumerHandler {
  let runtime: Runtime | undefined
  let logger: Logger | undefined

  const start = async () => {
    const env = options.env ?? process.env
    let config: Config
    try {
      config = loadConfig(env)
    } catch (error) {
      ;(options.logger ?? createPowertoolsLogger('INFO').logger).error(messageOf(error))
      throw error
    }
    logger = options.logger ?? createPowertoolsLogger(config.logLevel).logger
    for (const key of unknownKeys(env)) {
      logger.warn('Ignoring an environment variable this consumer does not know; is it a typo?', { key })
    }
    runtime = await createRuntime(config, env)
    return { runtime, logger }
  }

  const handler = async (_event: unknown, context: InvocationContext): Promise<RunReport> => {
    const { runtime: current, logger: log } = runtime && logger ? { runtime, logger } : await start()
    const { config } = current
    const remainingMs = context.getRemainingTimeInMillis()
    // Never let the margin eat the whole invocation: at most half of the time left.
    const marginMs = Math.min(config.timeoutMarginMs, remainingMs / 2)
    const processor = (
      options.processBatch !== undefined
        ? { processBatch: options.processBatch }
        : { process: options.process ?? createLoggingProcessor(log) }
    ) as Processor
    let summary: CycleSummary
    try {
      summary = await runCycle(
        { source: current.source, offsets: current.offsets, processor, logger: log },
        {
          topic: config.kafkaTopic,
          consumerId: consumerIdOf(config),
          maxMessages: config.maxMessages,
          startPosition: config.startPosition,
          deadline: Date.now() + remainingMs - marginMs,
          shard: { count: config.shardCount, index: config.shardIndex },
          ...(options.shouldStop && { shouldStop: options.shouldStop }),
        },
      )
    } catch (error) {
      log.error('Run failed', { error: messageOf(error) })
      throw error
    }
    const report = reportOf(summary)
    log.info('Run summary', { ...report })
    const failure = failureOf(summary)
    if (failure !== undefined) {
      log.error('Run failed', { error: messageOf(failure) })
      throw failure
    }
    return report
  }

  return Object.assign(handler, {
    async close() {
      await runtime?.close()
      runtime = undefined
    },
  })
}

function reportOf(summary: CycleSummary): RunReport {
  const { failures, error: _error, ...rest } = summary
  return {
    ...rest,
    failures: failures.map(({ partition, offset, reason }) => ({ partition, offset, reason })),
  }
}

/** The default function: logs each message (the seed's behaviour). Bring your own with `createHandler`. */
export const handler = createHandler()
