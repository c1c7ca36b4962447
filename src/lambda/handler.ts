/**
 * The Lambda entry point, invoked every minute by EventBridge. Wiring only: configuration
 * from the environment, the adapters from `createRuntime`, then one `runCycle`.
 *
 *   export const handler = createHandler({ process: async (message) => { ... } })
 *
 * Everything built here is kept across warm invocations (Kafka connections, the DynamoDB
 * and SQS clients); the run stops starting work `TIMEOUT_MARGIN_MS` before the function's
 * timeout. An invocation that finds another run holding the lease returns at once, without
 * error, its report saying so (`stopReason: 'lease-held'`).
 */
import { randomUUID } from 'node:crypto'
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Context } from 'aws-lambda'
import {
  type Config,
  consumerIdOf,
  describeConfig,
  type Environment,
  loadConfig,
  startPositionOf,
  unknownKeys,
} from '../config/schema.ts'
import { securityWarnings } from '../config/security-rules.ts'
import { failureOf } from '../cycle/errors.ts'
import { LEASE_RELEASE_TIMEOUT_MS } from '../cycle/lease-keeper.ts'
import { type CycleProgress, type CycleSummary, runCycle } from '../cycle/run-cycle.ts'
import { recordRunMetrics } from '../cycle/run-metrics.ts'
import { messageOf } from '../errors.ts'
import type { Logger, Metrics } from '../ports.ts'
import { createLoggingProcessor } from '../processing/logging-processor.ts'
import type { ProcessBatch, ProcessMessage, Processor } from '../processing/message.ts'
import { createMessageReader, type MessageFilter, type MessageReader } from '../processing/message-reader.ts'
import { createRuntime, type Runtime } from '../runtime/create-runtime.ts'
import { HANDLER_OPTIONS } from './handler-options.ts'
import { createPowertoolsLogger } from './powertools-logger.ts'
import { createPowertoolsMetrics } from './powertools-metrics.ts'

/** What follows the final save: the lease release (bounded) and the summary, before the timeout. */
const AFTER_SAVE_MS = LEASE_RELEASE_TIMEOUT_MS + 500

export interface HandlerOptions<Value = unknown, Key = string> {
  /**
   * Validates each decoded value (but tombstones) before the processor sees it: any Standard
   * Schema validator (zod, valibot, arktype, ...). A value that fails it is dead-lettered with
   * reason `schema` and the validator's message; `message.value` is the schema's output type.
   */
  readonly schema?: StandardSchemaV1<unknown, Value>
  /**
   * Keeps a message (true) or leaves it out (false), as the Lambda trigger's FilterCriteria do.
   * Runs on the decoded message before the schema. A message left out counts as done: its
   * offset moves on, and it is counted (`filtered` in the summary, metric `MessagesFiltered`).
   */
  readonly filter?: MessageFilter
  /** Your processor, one message at a time. Default: log each message, as the seed does. */
  readonly process?: ProcessMessage<Value, Key>
  /** Or your processor for each partition's batch of messages. */
  readonly processBatch?: ProcessBatch<Value, Key>
  /** Default: Powertools Logger, JSON lines. */
  readonly logger?: Logger
  /**
   * Default: in Lambda, Powertools Metrics (CloudWatch embedded metric format, namespace
   * `LambdaKafkaConsumer`), published at the end of each invocation; elsewhere, none.
   */
  readonly metrics?: Metrics & { publish?(): void }
  /** Default: `process.env`. */
  readonly env?: Environment
  /** Asked between messages; true ends the run early, offsets saved (Ctrl-C in `lkc start`). */
  readonly shouldStop?: () => boolean
  /** Told after each fetch round how far the run is (`lkc run`'s progress bar). */
  readonly onProgress?: (progress: CycleProgress) => void
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

export function createHandler<Value = unknown, Key = string>(
  options: HandlerOptions<Value, Key> = {},
): ConsumerHandler {
  let runtime: Runtime | undefined
  /** Built with the runtime, so the schemas a registry gave are cached across warm invocations. */
  let reader: MessageReader | undefined
  let logger: Logger | undefined
  let metrics: (Metrics & { publish?(): void }) | undefined
  /** Set when the handler logs through its own Powertools Logger: it gets each invocation's context. */
  let powertools: PowertoolsLogger | undefined
  /** Set with it: which levels it writes, so the default processor builds no line it would drop. */
  let isLevelEnabled: ((level: 'debug' | 'info') => boolean) | undefined

  const start = async () => {
    const env = options.env ?? process.env
    let config: Config
    try {
      config = loadConfig(env)
    } catch (error) {
      ;(options.logger ?? createPowertoolsLogger('INFO').logger).error(messageOf(error))
      throw error
    }
    if (options.logger) {
      logger = options.logger
    } else {
      const created = createPowertoolsLogger(config.logLevel)
      logger = created.logger
      powertools = created.powertools
      isLevelEnabled = created.isEnabled
    }
    for (const key of unknownKeys(env)) {
      logger.warn('Ignoring an environment variable this consumer does not know; is it a typo?', { key })
    }
    for (const warning of securityWarnings(config, env)) logger.warn(warning)
    // Secrets show as ***: the dump is safe to keep in the logs.
    logger.debug(
      'Configuration',
      Object.fromEntries(describeConfig(config).map(({ key, value }) => [key, value])),
    )
    metrics =
      options.metrics ??
      (env.AWS_LAMBDA_FUNCTION_NAME === undefined || !config.publishMetrics
        ? undefined
        : createPowertoolsMetrics(config.kafkaTopic, {
            detailed: config.detailedMetrics,
            ...(env.POWERTOOLS_SERVICE_NAME && { serviceName: env.POWERTOOLS_SERVICE_NAME }),
          }))
    try {
      runtime = await createRuntime(config, env)
      reader = createMessageReader({
        value: runtime.decoders.value,
        key: runtime.decoders.key,
        ...(options.filter && { filter: options.filter }),
        ...(options.schema && { schema: options.schema }),
      })
    } catch (error) {
      logger.error('Run failed', { error: messageOf(error) })
      throw error
    }
    return { runtime, logger }
  }

  const handler = async (_event: unknown, context: InvocationContext): Promise<RunReport> => {
    const { runtime: current, logger: log } = runtime && logger ? { runtime, logger } : await start()
    // In Lambda: every line carries the request id, the function and whether this is a cold start.
    if (powertools && isLambdaContext(context)) powertools.addContext(context)
    const { config } = current
    const remainingMs = context.getRemainingTimeInMillis()
    // Never let the margin eat the whole invocation: at most half of the time left.
    const marginMs = Math.min(config.timeoutMarginMs, remainingMs / 2)
    const processor = (
      options.processBatch !== undefined
        ? { processBatch: options.processBatch }
        : {
            process:
              options.process ??
              createLoggingProcessor(log, {
                logContent: config.logMessageContent,
                ...(isLevelEnabled && { isLevelEnabled }),
              }),
          }
    ) as Processor
    let summary: CycleSummary
    try {
      summary = await runCycle(
        {
          source: current.source,
          offsets: current.offsets,
          lease: current.lease,
          ...(current.deadLetters && { deadLetters: current.deadLetters }),
          ...(metrics && { metrics }),
          processor,
          ...(reader && { reader }),
          logger: log,
          ...(options.onProgress && { progress: options.onProgress }),
        },
        {
          topic: config.kafkaTopic,
          consumerId: consumerIdOf(config),
          maxMessages: config.maxMessages,
          startPosition: startPositionOf(config),
          deadline: Date.now() + remainingMs - marginMs,
          saveBy: Date.now() + remainingMs - AFTER_SAVE_MS,
          offsetOutOfRange: config.offsetOutOfRangePolicy,
          checkpoint: { everyMessages: config.checkpointEveryMessages, everyMs: config.checkpointEveryMs },
          processing: {
            attempts: config.processingAttempts,
            retryDelayMs: config.processingRetryDelayMs,
            timeoutMs: config.processingTimeoutMs,
          },
          // Unique per invocation, and says which one holds the lease when another finds it held.
          lease: {
            owner: `${context.awsRequestId ?? 'local'}/${randomUUID().slice(0, 8)}`,
            durationMs: config.leaseDurationMs,
          },
          shard: { count: config.shardCount, index: config.shardIndex },
          partitionConcurrency: config.partitionConcurrency,
          ...(options.shouldStop && { shouldStop: options.shouldStop }),
        },
      )
    } catch (error) {
      log.error('Run failed', { error: messageOf(error) })
      metrics?.publish?.()
      throw error
    }
    if (metrics) {
      recordRunMetrics(metrics, summary, { partitionLag: config.partitionLagMetrics })
      metrics.publish?.()
    }
    const report = reportOf(summary)
    log.info(
      summary.stopReason === 'lease-held' ? 'Run skipped: another run holds the lease' : 'Run summary',
      {
        ...report,
      },
    )
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
      reader = undefined
    },
    // For `lkc run --handler`: the same processor, remade with the terminal's logger.
    [HANDLER_OPTIONS]: options,
  })
}

function isLambdaContext(context: InvocationContext): context is InvocationContext & Context {
  return 'functionName' in context && 'invokedFunctionArn' in context
}

function reportOf(summary: CycleSummary): RunReport {
  const { failures, error: _error, ...rest } = summary
  return {
    ...rest,
    failures: failures.map(({ partition, offset, reason }) => ({ partition, offset, reason })),
  }
}
