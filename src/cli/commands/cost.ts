import { loadConfig, startPositionOf } from '../../config/schema.ts'
import { parseInterval } from '../../local/scheduler.ts'
import {
  type Architecture,
  customMetricsOf,
  estimateMonthlyCost,
  formatCost,
  PRICES,
  stackMonitoringOf,
} from '../../operations/cost-model.ts'
import { readTopicStatus } from '../../operations/partition-status.ts'
import { createRuntime } from '../../runtime/create-runtime.ts'
import { type Command, integerOption, stringOption, UsageError } from '../command.ts'

const MONTH_MS = 30 * 24 * 3_600_000
/**
 * Measured in Lambda's format: the summary line and Lambda's START/END/REPORT (~1.3 KB), and the
 * embedded metrics: one document with `MaxOffsetLag` (~0.4 KB), all of them with DETAILED_METRICS (~1.3 KB).
 */
const LOG_BYTES_PER_RUN = 1300
const METRIC_LOG_BYTES_PER_RUN = { essential: 400, detailed: 1300 }
/** The default processor's line per message at INFO (topic, partition, offset, key). */
const LOG_BYTES_PER_MESSAGE = 210
/** A run with messages takes the lease and releases it: two writes. */
const LEASE_WRITES = 2

export const costCommand: Command = {
  help: [
    'Usage: lkc cost [--every 1m] [--memory-mb 512] [--arch arm64|x86_64] [--duration-ms N] [--busy-duration-ms N]',
    '',
    "Estimates the monthly AWS cost for this config and schedule, itemized like the seed's cost",
    'table. Without --duration-ms it measures an invocation with nothing new here (read the',
    'offsets, the metadata and the watermarks: what a warm invocation does when idle), median of 5.',
    `Prices: ${PRICES.region}, as of ${PRICES.asOf}, free tiers left out.`,
    '',
    'Options:',
    '  --every <interval>      schedule (default 1m: 43,200 invocations a month)',
    '  --memory-mb N           function memory (default 512)',
    '  --arch arm64|x86_64     (default arm64)',
    '  --duration-ms N         idle invocation duration to use instead of measuring',
    '  --busy-duration-ms N    duration of an invocation with MAX_MESSAGES messages, for a second estimate',
    "  --dashboard             add the construct's optional dashboard ($3.00 a month beyond an account's first 3)",
    "  --no-monitoring         leave out the construct's alarms and custom metrics (monitoring: false)",
    '',
    'The custom metrics follow DETAILED_METRICS and PARTITION_LAG_METRICS as set here.',
  ].join('\n'),
  options: {
    every: { type: 'string' },
    'memory-mb': { type: 'string' },
    arch: { type: 'string' },
    'duration-ms': { type: 'string' },
    'busy-duration-ms': { type: 'string' },
    'no-monitoring': { type: 'boolean' },
    dashboard: { type: 'boolean' },
  },
  readsConfig: true,
  async run(options, env) {
    const config = loadConfig(env)
    const every = stringOption(options, 'every') ?? '1m'
    const everyMs = parseInterval(every)
    if (everyMs === undefined) throw new UsageError(`--every must look like 30s, 1m or 5m, not "${every}"`)
    const architecture = stringOption(options, 'arch') ?? 'arm64'
    if (architecture !== 'arm64' && architecture !== 'x86_64') {
      throw new UsageError(`--arch must be arm64 or x86_64, not "${architecture}"`)
    }
    const memoryMb = integerOption(options, 'memory-mb', 512, 128)
    const invocationsPerMonth = Math.round(MONTH_MS / everyMs)

    const runtime = await createRuntime(config, env)
    let idleMs: number
    let partitions: number
    try {
      const status = await readTopicStatus(
        runtime.source,
        runtime.offsets,
        config.kafkaTopic,
        startPositionOf(config),
      )
      partitions = status.partitions.length
      const given = stringOption(options, 'duration-ms')
      idleMs =
        given === undefined
          ? await measureIdle(runtime, config.kafkaTopic)
          : integerOption(options, 'duration-ms', 0, 1)
    } finally {
      await runtime.close()
    }

    const base = {
      invocationsPerMonth,
      memoryMb,
      architecture: architecture as Architecture,
      readUnitsPerInvocation: Math.max(1, Math.ceil((partitions * 150) / 4096)),
      logBytesPerInvocation:
        LOG_BYTES_PER_RUN +
        (!config.publishMetrics || options['no-monitoring'] === true
          ? 0
          : METRIC_LOG_BYTES_PER_RUN[config.detailedMetrics ? 'detailed' : 'essential']),
      schedule: 'scheduler' as const,
      ...(options['no-monitoring'] !== true && {
        monitoring: {
          ...stackMonitoringOf({ dashboard: options.dashboard === true }),
          customMetrics: config.publishMetrics
            ? customMetricsOf({
                partitions,
                partitionLag: config.partitionLagMetrics,
                detailed: config.detailedMetrics,
              })
            : 0,
        },
      }),
    }
    const out = [
      `Monthly estimate for ${config.kafkaTopic} (${partitions} partitions), every ${every} = ${invocationsPerMonth.toLocaleString('en-US')} invocations, ${memoryMb} MB ${architecture}:`,
      '',
      `Idle (nothing new; ${idleMs} ms per invocation, ${stringOption(options, 'duration-ms') ? 'given' : 'measured here'}):`,
      formatCost(estimateMonthlyCost({ ...base, durationMs: idleMs, writeUnitsPerInvocation: 0 })),
    ]
    const busy = stringOption(options, 'busy-duration-ms')
    // The default processor logs each message at INFO; a processor of your own decides for itself.
    const perMessageLogs = config.logLevel === 'INFO' || config.logLevel === 'DEBUG'
    if (busy !== undefined) {
      const busyMs = integerOption(options, 'busy-duration-ms', 0, 1)
      out.push(
        '',
        `Busy (${config.maxMessages} messages per invocation, ${busyMs} ms, every partition saved, the lease taken and released${perMessageLogs ? ', a log line per message at INFO' : ''}):`,
        formatCost(
          estimateMonthlyCost({
            ...base,
            durationMs: busyMs,
            writeUnitsPerInvocation: partitions + LEASE_WRITES,
            logBytesPerInvocation:
              base.logBytesPerInvocation + (perMessageLogs ? config.maxMessages * LOG_BYTES_PER_MESSAGE : 0),
          }),
        ),
      )
    }
    out.push('', `Prices: ${PRICES.region} on-demand as of ${PRICES.asOf}, free tiers not deducted.`)
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  },
}

/** The median of 5 idle passes after a warm-up: the offsets read beside metadata then watermarks, as a run does. */
async function measureIdle(
  runtime: Awaited<ReturnType<typeof createRuntime>>,
  topic: string,
): Promise<number> {
  const samples: number[] = []
  for (let pass = 0; pass < 6; pass++) {
    const started = performance.now()
    await Promise.all([
      runtime.offsets.read(),
      runtime.source.partitions(topic).then((partitions) => runtime.source.watermarks(topic, partitions)),
    ])
    if (pass > 0) samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  return Math.max(1, Math.ceil(samples[Math.floor(samples.length / 2)]!))
}
