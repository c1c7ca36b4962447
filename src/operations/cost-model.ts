/**
 * The monthly cost of running this consumer, itemized as the seed's cost table is: Lambda,
 * DynamoDB, the schedule, CloudWatch Logs, and the optional pieces (dead-letter queue,
 * Secrets Manager, KMS). Used by `lkc cost` and to generate the README's cost table, so the
 * two cannot disagree. Free tiers are left out: the figures are what a busy account pays.
 */

/**
 * Public on-demand prices, us-east-1, in USD, as known when this was written (2025); they were
 * not fetched from AWS (no network here). Check the AWS price pages before relying on them.
 */
export const PRICES = {
  asOf: '2025 (not re-fetched; check the AWS pricing pages)',
  region: 'us-east-1',
  lambda: {
    /** Per GB-second of billed duration (1 ms granularity), first pricing tier. */
    gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
    perMillionRequests: 0.2,
  },
  dynamodb: {
    /** On-demand, per million request units (after the November 2024 price cut). */
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
  },
  /** EventBridge Scheduler, per million invocations (a classic scheduled rule costs nothing). */
  schedulerPerMillion: 1.0,
  logs: { ingestionPerGb: 0.5, storagePerGbMonth: 0.03 },
  sqs: { perMillionRequests: 0.4 },
  secretsManager: { perSecretMonth: 0.4, perTenThousandCalls: 0.05 },
  /** CloudWatch: custom metrics (first tier), a dashboard beyond the 3 free ones, standard-resolution alarms. */
  cloudwatch: { perMetricMonth: 0.3, perDashboardMonth: 3.0, perAlarmMetricMonth: 0.1 },
  kms: { perKeyMonth: 1.0, perTenThousandRequests: 0.03 },
} as const

export type Architecture = keyof typeof PRICES.lambda.gbSecond

export interface CostInputs {
  /** 43,200 for every minute in a 30-day month. */
  readonly invocationsPerMonth: number
  readonly durationMs: number
  readonly memoryMb: number
  readonly architecture: Architecture
  /** Read units per invocation: the offsets Query (one unit per 4 KB read, strongly consistent). */
  readonly readUnitsPerInvocation: number
  /** Write units per invocation: one per partition offset saved, plus the run lease. */
  readonly writeUnitsPerInvocation: number
  /** Log bytes written per invocation (the summary line, warnings; messages only at DEBUG). */
  readonly logBytesPerInvocation: number
  readonly schedule: 'scheduler' | 'rule'
  readonly secretsManager?: boolean
  /** A customer-managed KMS key (for the table). */
  readonly customerManagedKey?: boolean
  /** The stack's dashboard and alarms, and the custom metrics the function publishes. */
  readonly monitoring?: {
    readonly customMetrics: number
    readonly dashboards: number
    readonly alarmMetrics: number
  }
}

export interface MetricsPublished {
  readonly partitions: number
  /** `OffsetLag` per partition (PARTITION_LAG_METRICS). */
  readonly partitionLag: boolean
  /** Every metric the cycle records (DETAILED_METRICS). */
  readonly detailed: boolean
}

/**
 * The custom metrics a consumer publishes (src/lambda/powertools-metrics.ts): `MaxOffsetLag` every
 * run and `MessagesDeadLettered` (only in hours with a dead letter, counted here as a whole month:
 * an upper bound); with `detailed`, the 6 that Lambda's free metrics and the summary line already
 * carry; with `partitionLag`, one per partition. `OffsetOutOfRange` and `OffsetsLostToRetention`
 * (retention deleted unread messages), `StoredOffsetMismatch` (a re-created topic) and
 * `PartitionsWithoutLeader` (brokers down) happen only in an incident, and are left out.
 */
export function customMetricsOf(published: MetricsPublished): number {
  return 2 + (published.detailed ? 6 : 0) + (published.partitionLag ? published.partitions : 0)
}

/**
 * The construct's monitoring (infra/consumer-monitoring.ts), counted as CloudWatch bills alarms:
 * per metric in each. Errors, duration and no successful run (Invocations and Errors) read each
 * shard's function; lag rising, dead letters, stored offset mismatch and partitions without a
 * leader one custom metric each. The dashboard is optional.
 */
export function stackMonitoringOf(options: { readonly shards?: number; readonly dashboard?: boolean } = {}): {
  readonly dashboards: number
  readonly alarmMetrics: number
} {
  const shards = options.shards ?? 1
  return { dashboards: options.dashboard ? 1 : 0, alarmMetrics: 4 * shards + 4 }
}

export interface CostLine {
  readonly service: string
  readonly usage: string
  readonly monthlyUsd: number
}

const MILLION = 1_000_000

export function estimateMonthlyCost(inputs: CostInputs): CostLine[] {
  const n = inputs.invocationsPerMonth
  const billedSeconds = Math.ceil(inputs.durationMs) / 1000
  const gbSeconds = n * billedSeconds * (inputs.memoryMb / 1024)
  const logGb = (n * inputs.logBytesPerInvocation) / 1024 ** 3
  const lines: CostLine[] = [
    {
      service: `Lambda (${inputs.architecture})`,
      usage: `${fmt(n)} invokes @ ${fmt(inputs.durationMs)} ms, ${inputs.memoryMb} MB = ${fmt(gbSeconds)} GB-s`,
      monthlyUsd:
        gbSeconds * PRICES.lambda.gbSecond[inputs.architecture] +
        (n / MILLION) * PRICES.lambda.perMillionRequests,
    },
    {
      service: 'DynamoDB (on-demand)',
      usage: `${fmt(n * inputs.readUnitsPerInvocation)} reads, ${fmt(n * inputs.writeUnitsPerInvocation)} writes`,
      monthlyUsd:
        ((n * inputs.readUnitsPerInvocation) / MILLION) * PRICES.dynamodb.perMillionReadUnits +
        ((n * inputs.writeUnitsPerInvocation) / MILLION) * PRICES.dynamodb.perMillionWriteUnits,
    },
    inputs.schedule === 'scheduler'
      ? {
          service: 'EventBridge Scheduler',
          usage: `${fmt(n)} invocations`,
          monthlyUsd: (n / MILLION) * PRICES.schedulerPerMillion,
        }
      : { service: 'EventBridge rule', usage: `${fmt(n)} events`, monthlyUsd: 0 },
    {
      service: 'CloudWatch Logs (1-week retention)',
      usage: `${fmt(logGb * 1024)} MB ingested`,
      // A week of retention keeps about a quarter of a month's logs stored at any time.
      monthlyUsd: logGb * PRICES.logs.ingestionPerGb + (logGb / 4) * PRICES.logs.storagePerGbMonth,
    },
  ]
  if (inputs.secretsManager) {
    lines.push({
      service: 'Secrets Manager',
      usage: '1 secret, read once per cold start',
      monthlyUsd:
        PRICES.secretsManager.perSecretMonth + (1000 / 10_000) * PRICES.secretsManager.perTenThousandCalls,
    })
  }
  if (inputs.monitoring) {
    const { customMetrics, dashboards, alarmMetrics } = inputs.monitoring
    lines.push({
      service: 'CloudWatch metrics, dashboard, alarms',
      usage: `${customMetrics} custom metrics, ${dashboards} dashboard${dashboards === 1 ? '' : 's'}, ${alarmMetrics} alarm metrics`,
      monthlyUsd:
        customMetrics * PRICES.cloudwatch.perMetricMonth +
        dashboards * PRICES.cloudwatch.perDashboardMonth +
        alarmMetrics * PRICES.cloudwatch.perAlarmMetricMonth,
    })
  }
  if (inputs.customerManagedKey) {
    lines.push({
      service: 'KMS (customer-managed key)',
      usage: '1 key, requests cached by DynamoDB',
      monthlyUsd: PRICES.kms.perKeyMonth + ((n * 2) / 10_000) * PRICES.kms.perTenThousandRequests,
    })
  }
  return lines
}

export function totalOf(lines: readonly CostLine[]): number {
  return lines.reduce((sum, line) => sum + line.monthlyUsd, 0)
}

export function formatCost(lines: readonly CostLine[]): string {
  const rows = [
    ...lines.map((line) => [line.service, line.usage, usd(line.monthlyUsd)]),
    ['Total', '', usd(totalOf(lines))],
  ]
  const header = ['Service', 'Usage per month', 'Cost']
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => cells[column]!.length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

export function usd(amount: number): string {
  return amount < 0.01 && amount > 0 ? `$${amount.toFixed(4)}` : `$${amount.toFixed(2)}`
}

function fmt(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : Number(value.toPrecision(3)).toString()
}
