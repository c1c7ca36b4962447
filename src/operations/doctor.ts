/**
 * `lkc doctor`: checks, in order, everything a run needs, one verdict per line with the fix.
 * A failed check skips the checks that depend on it (no topic check without a broker).
 * The probes are passed in, so the logic is unit-tested without a network.
 */
import { ConfigError } from '../config/errors.ts'
import { type Config, consumerIdOf, type Environment, loadConfig } from '../config/schema.ts'
import { messageOf } from '../errors.ts'
import { TopicNotFoundError } from '../kafka/errors.ts'
import type { RegistryCheck } from '../processing/registry/schema-source.ts'

export type Verdict = 'ok' | 'fail' | 'warn' | 'skip'

export interface CheckResult {
  readonly check: string
  readonly verdict: Verdict
  readonly detail: string
  /** What to do, for a failure or a warning. */
  readonly fix?: string
}

export interface TableDescription {
  readonly keySchema: ReadonlyArray<{
    readonly name: string
    readonly keyType: string
    readonly type?: string
  }>
  readonly status: string
}

export interface DoctorProbes {
  /** Resolves AWS credentials for DynamoDB (throws when there are none). */
  credentials(): Promise<string>
  /** The partitions of the topic (throws `TopicNotFoundError`, or an error saying why Kafka failed). */
  partitions(topic: string): Promise<{ count: number; withoutLeader: number }>
  describeTable(table: string): Promise<TableDescription>
  /** One read of the stored offsets (the run's first call). */
  readOffsets(): Promise<number>
  /** The run lease as stored; `undefined` when it was never taken. */
  lease(): Promise<{ holder: string; expiresAt: number } | undefined>
  /** Asks the schema registry something that needs no schema; `undefined` when no format uses one. */
  registry(): Promise<RegistryCheck | undefined>
}

/** The checks after the config, skipped when what they need is missing. */
const LATER_CHECKS = [
  'kafka broker',
  'kafka topic',
  'dynamodb credentials',
  'dynamodb table',
  'offsets read',
  'run lease',
  'schema registry',
]

function skipped(checks: readonly string[], detail: string): CheckResult[] {
  return checks.map((check) => ({ check, verdict: 'skip' as const, detail }))
}

const SEED_KEYS = [
  { name: 'consumer_id', keyType: 'HASH', type: 'S' },
  { name: 'partition', keyType: 'RANGE', type: 'N' },
]

export async function runDoctor(
  env: Environment,
  probesFor: (config: Config) => Promise<DoctorProbes>,
): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  let config: Config
  try {
    config = loadConfig(env)
    results.push({ check: 'config', verdict: 'ok', detail: `valid; consumer_id ${consumerIdOf(config)}` })
  } catch (error) {
    const detail =
      error instanceof ConfigError
        ? error.problems.map((p) => `${p.key}: ${p.expected}`).join('; ')
        : messageOf(error)
    results.push({
      check: 'config',
      verdict: 'fail',
      detail,
      fix: 'set the variables named above (`lkc run --help` lists them all)',
    })
    results.push(...skipped(LATER_CHECKS, 'needs a valid config'))
    return results
  }
  let probes: DoctorProbes
  try {
    probes = await probesFor(config)
  } catch (error) {
    // The Kafka credentials are read before anything can be probed (a secret, a file, an MSK IAM token).
    results.push({
      check: 'kafka credentials',
      verdict: 'fail',
      detail: messageOf(error),
      fix: 'check KAFKA_SECRET_ARN (or KAFKA_SECRET_FILE), the KAFKA_SASL_* and KAFKA_SSL_* settings, and the role that reads them',
    })
    results.push(...skipped(LATER_CHECKS, 'needs the Kafka credentials'))
    return results
  }

  // Kafka: reaching the broker (and authenticating) and finding the topic are one metadata call.
  try {
    const { count, withoutLeader } = await probes.partitions(config.kafkaTopic)
    results.push({
      check: 'kafka broker',
      verdict: 'ok',
      detail: `reachable at ${config.kafkaBootstrapServers.join(',')}`,
    })
    results.push(
      withoutLeader > 0
        ? {
            check: 'kafka topic',
            verdict: 'warn',
            detail: `${config.kafkaTopic}: ${count} partition(s), ${withoutLeader} without a leader`,
            fix: 'the cluster is electing leaders or brokers are down; runs skip those partitions until it recovers',
          }
        : {
            check: 'kafka topic',
            verdict: 'ok',
            detail: `${config.kafkaTopic}: ${count} partition(s), all with a leader`,
          },
    )
  } catch (error) {
    if (error instanceof TopicNotFoundError) {
      results.push({
        check: 'kafka broker',
        verdict: 'ok',
        detail: `reachable at ${config.kafkaBootstrapServers.join(',')}`,
      })
      results.push({
        check: 'kafka topic',
        verdict: 'fail',
        detail: `${config.kafkaTopic} does not exist`,
        fix: 'check KAFKA_TOPIC (names are case-sensitive) or create the topic',
      })
    } else {
      results.push({
        check: 'kafka broker',
        verdict: 'fail',
        detail: messageOf(error),
        fix: 'check KAFKA_BOOTSTRAP_SERVERS, the network path (VPC, security groups) and the credentials',
      })
      results.push({ check: 'kafka topic', verdict: 'skip', detail: 'needs the broker' })
    }
  }

  // DynamoDB: credentials, the table and its key schema, then the run's own read.
  let dynamodbUsable = false
  try {
    results.push({ check: 'dynamodb credentials', verdict: 'ok', detail: await probes.credentials() })
    dynamodbUsable = true
  } catch (error) {
    results.push({
      check: 'dynamodb credentials',
      verdict: 'fail',
      detail: messageOf(error),
      fix: 'locally: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or DYNAMODB_ENDPOINT for a local table',
    })
  }
  if (dynamodbUsable) {
    try {
      const table = await probes.describeTable(config.dynamodbTable)
      const mismatch = SEED_KEYS.filter(
        (want) =>
          !table.keySchema.some(
            (key) =>
              key.name === want.name && key.keyType === want.keyType && (key.type ?? want.type) === want.type,
          ),
      )
      if (mismatch.length > 0) {
        dynamodbUsable = false
        results.push({
          check: 'dynamodb table',
          verdict: 'fail',
          detail: `${config.dynamodbTable} has keys ${table.keySchema.map((key) => `${key.name} (${key.type ?? '?'}, ${key.keyType})`).join(', ')}`,
          fix: "the table needs consumer_id (S, HASH) and partition (N, RANGE), the seed's schema: use another table or recreate it",
        })
      } else {
        results.push({
          check: 'dynamodb table',
          verdict: 'ok',
          detail: `${config.dynamodbTable} (${table.status}) has the seed's key schema`,
        })
      }
    } catch (error) {
      dynamodbUsable = false
      results.push({
        check: 'dynamodb table',
        verdict: 'fail',
        detail: messageOf(error),
        fix: 'deploy the stack (it creates the table), or set DYNAMODB_TABLE to the right name and AWS_REGION to its region',
      })
    }
  } else {
    results.push({ check: 'dynamodb table', verdict: 'skip', detail: 'needs credentials' })
  }
  if (dynamodbUsable) {
    try {
      const partitions = await probes.readOffsets()
      results.push({
        check: 'offsets read',
        verdict: 'ok',
        detail: `${partitions} partition offset(s) stored`,
      })
    } catch (error) {
      results.push({
        check: 'offsets read',
        verdict: 'fail',
        detail: messageOf(error),
        fix: 'grant dynamodb:Query on the table to these credentials',
      })
    }
  } else {
    results.push({ check: 'offsets read', verdict: 'skip', detail: 'needs the table' })
  }
  results.push(
    dynamodbUsable
      ? await leaseCheck(probes)
      : { check: 'run lease', verdict: 'skip', detail: 'needs the table' },
  )
  results.push(await registryCheck(config, probes))
  return results
}

async function registryCheck(config: Config, probes: DoctorProbes): Promise<CheckResult> {
  const check = 'schema registry'
  let found: RegistryCheck | undefined
  try {
    found = await probes.registry()
  } catch (error) {
    found = { ok: false, detail: messageOf(error), fix: 'check SCHEMA_REGISTRY and its settings' }
  }
  if (found === undefined) {
    return {
      check,
      verdict: 'skip',
      detail: `not used (VALUE_FORMAT ${config.valueFormat}, KEY_FORMAT ${config.keyFormat})`,
    }
  }
  return found.ok
    ? { check, verdict: 'ok', detail: found.detail }
    : { check, verdict: 'fail', detail: found.detail, ...(found.fix !== undefined && { fix: found.fix }) }
}

async function leaseCheck(probes: DoctorProbes): Promise<CheckResult> {
  try {
    const lease = await probes.lease()
    if (lease === undefined) return { check: 'run lease', verdict: 'ok', detail: 'free (never taken)' }
    const until = new Date(lease.expiresAt).toISOString()
    if (lease.expiresAt <= Date.now()) {
      return {
        check: 'run lease',
        verdict: 'ok',
        detail: `free (last held by ${lease.holder} until ${until})`,
      }
    }
    return {
      check: 'run lease',
      verdict: 'warn',
      detail: `held by ${lease.holder} until ${until}`,
      fix: 'a run is in progress (normal while scheduled); if that run crashed, the lease frees itself at that time: no need to edit the table',
    }
  } catch (error) {
    return {
      check: 'run lease',
      verdict: 'fail',
      detail: messageOf(error),
      fix: 'grant dynamodb:GetItem on the table',
    }
  }
}

export function formatDoctor(results: readonly CheckResult[], color = false): string {
  const mark: Record<Verdict, [string, number]> = {
    ok: ['ok  ', 32],
    fail: ['FAIL', 31],
    warn: ['warn', 33],
    skip: ['skip', 90],
  }
  const width = Math.max(...results.map((result) => result.check.length))
  return results
    .map((result) => {
      const [text, code] = mark[result.verdict]
      const label = color ? `\u001b[${code}m${text}\u001b[0m` : text
      const fix = result.fix && result.verdict !== 'ok' ? `\n${' '.repeat(width + 8)}fix: ${result.fix}` : ''
      return `${label}  ${result.check.padEnd(width)}  ${result.detail}${fix}`
    })
    .join('\n')
}
