/**
 * The rules between the security settings, which no single setting's schema can check: a SASL
 * protocol needs a mechanism, AWS_MSK_IAM needs TLS and a region, PLAIN and SCRAM need a password
 * from exactly one place, TLS files need a TLS protocol. Each broken rule is a `ConfigProblem`
 * naming the key to change, the value seen (never a secret) and what is allowed.
 */
import type { ConfigProblem } from './errors.ts'
import type { Config, Environment, SaslMechanism } from './schema.ts'

type SecuritySettings = Pick<
  Config,
  | 'kafkaSecurityProtocol'
  | 'kafkaSaslMechanism'
  | 'kafkaSaslUsername'
  | 'kafkaSaslPassword'
  | 'kafkaSecretArn'
  | 'kafkaSecretFile'
  | 'kafkaSslCaFile'
  | 'kafkaSslCertFile'
  | 'kafkaSslKeyFile'
  | 'kafkaBootstrapServers'
  | 'schemaRegistry'
>

const PASSWORD_MECHANISMS: ReadonlySet<SaslMechanism> = new Set(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])

/** The broken rules; `failed` holds the keys whose own value was already reported as invalid. */
export function securityProblems(
  config: Partial<SecuritySettings>,
  env: Environment,
  failed: ReadonlySet<string> = new Set(),
): ConfigProblem[] {
  const protocol = config.kafkaSecurityProtocol
  // Without a valid protocol and mechanism, every rule below would guess.
  if (protocol === undefined || failed.has('KAFKA_SASL_MECHANISM')) return []
  const problems: ConfigProblem[] = []
  const mechanism = config.kafkaSaslMechanism
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL'
  const fromSecret = config.kafkaSecretArn !== undefined || config.kafkaSecretFile !== undefined
  const unused = (key: string, value: string | undefined, why: string) =>
    problems.push({ key, value, expected: `unset: ${why}` })

  if (sasl && mechanism === undefined) {
    problems.push({
      key: 'KAFKA_SASL_MECHANISM',
      value: undefined,
      expected: `one of: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM (required with KAFKA_SECURITY_PROTOCOL=${protocol})`,
    })
  }
  if (!sasl) {
    const why = `KAFKA_SECURITY_PROTOCOL=${protocol} uses no SASL; set KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT) to authenticate with it`
    if (mechanism !== undefined) unused('KAFKA_SASL_MECHANISM', mechanism, why)
    if (config.kafkaSaslUsername !== undefined) unused('KAFKA_SASL_USERNAME', config.kafkaSaslUsername, why)
    if (config.kafkaSaslPassword !== undefined) unused('KAFKA_SASL_PASSWORD', '***', why)
  }
  if (mechanism === 'AWS_MSK_IAM') {
    if (protocol !== 'SASL_SSL') {
      problems.push({
        key: 'KAFKA_SECURITY_PROTOCOL',
        value: protocol,
        expected:
          'SASL_SSL: KAFKA_SASL_MECHANISM=AWS_MSK_IAM works only over TLS (the MSK brokers on port 9098)',
      })
    }
    const why =
      "KAFKA_SASL_MECHANISM=AWS_MSK_IAM signs in with the function's IAM role, not a user and password"
    if (config.kafkaSaslUsername !== undefined) unused('KAFKA_SASL_USERNAME', config.kafkaSaslUsername, why)
    if (config.kafkaSaslPassword !== undefined) unused('KAFKA_SASL_PASSWORD', '***', why)
    if (mskIamRegion(config.kafkaBootstrapServers ?? [], env) === undefined) {
      problems.push({
        key: 'AWS_REGION',
        value: undefined,
        expected:
          'the AWS region of the MSK cluster, e.g. "eu-west-1", to sign the AWS_MSK_IAM token (Lambda sets it; set it when running elsewhere)',
      })
    }
  }
  if (sasl && mechanism !== undefined && PASSWORD_MECHANISMS.has(mechanism)) {
    if (config.kafkaSaslPassword !== undefined && fromSecret) {
      unused(
        'KAFKA_SASL_PASSWORD',
        '***',
        'the password comes from KAFKA_SECRET_ARN or KAFKA_SECRET_FILE; keep it in one place only',
      )
    } else if (config.kafkaSaslPassword === undefined && !fromSecret) {
      problems.push({
        key: 'KAFKA_SASL_PASSWORD',
        value: undefined,
        expected: `a password for ${mechanism}: set KAFKA_SECRET_ARN (a Secrets Manager secret with "username" and "password"), or KAFKA_SECRET_FILE, or KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
      })
    } else if (config.kafkaSaslUsername === undefined && !fromSecret) {
      problems.push({
        key: 'KAFKA_SASL_USERNAME',
        value: undefined,
        expected: `the ${mechanism} user that goes with KAFKA_SASL_PASSWORD`,
      })
    }
  }
  // The secret may hold a Confluent-compatible registry's credentials only (registry-credentials.ts).
  if (protocol === 'PLAINTEXT' && fromSecret && config.schemaRegistry !== 'confluent') {
    const key = config.kafkaSecretArn !== undefined ? 'KAFKA_SECRET_ARN' : 'KAFKA_SECRET_FILE'
    problems.push({
      key: 'KAFKA_SECURITY_PROTOCOL',
      value: protocol,
      expected: `SASL_SSL, SSL or SASL_PLAINTEXT: ${key} is set, and PLAINTEXT uses no credentials (set the protocol the cluster's listener uses)`,
    })
  }
  if (config.kafkaSecretArn !== undefined && config.kafkaSecretFile !== undefined) {
    unused('KAFKA_SECRET_FILE', config.kafkaSecretFile, 'KAFKA_SECRET_ARN is set; read one secret only')
  }
  const tlsFiles = [
    ['KAFKA_SSL_CA_FILE', config.kafkaSslCaFile],
    ['KAFKA_SSL_CERT_FILE', config.kafkaSslCertFile],
    ['KAFKA_SSL_KEY_FILE', config.kafkaSslKeyFile],
  ] as const
  if (!tls) {
    for (const [key, value] of tlsFiles) {
      if (value !== undefined) {
        unused(
          key,
          value,
          `KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS; set it to SSL or SASL_SSL to use TLS`,
        )
      }
    }
  } else if (
    !fromSecret &&
    (config.kafkaSslCertFile === undefined) !== (config.kafkaSslKeyFile === undefined)
  ) {
    const [missing, present] =
      config.kafkaSslCertFile === undefined
        ? ['KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE']
        : ['KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_CERT_FILE']
    problems.push({
      key: missing,
      value: undefined,
      expected: `a PEM file path: mutual TLS needs both the client certificate and its key, and ${present} is set`,
    })
  }
  return problems
}

/** Things that work but are unsafe, for a warning at start. */
export function securityWarnings(config: Partial<SecuritySettings>, env: Environment): string[] {
  const warnings: string[] = []
  if (config.kafkaSecurityProtocol === 'SASL_PLAINTEXT' && config.kafkaSaslMechanism === 'PLAIN') {
    warnings.push(
      'SASL/PLAIN over SASL_PLAINTEXT sends the password in clear text: use KAFKA_SECURITY_PROTOCOL=SASL_SSL outside a trusted network.',
    )
  }
  if (config.kafkaSaslPassword !== undefined && env.AWS_LAMBDA_FUNCTION_NAME !== undefined) {
    warnings.push(
      "KAFKA_SASL_PASSWORD is set in the Lambda function's environment, where anyone who can read the function's configuration sees it: keep it in Secrets Manager and set KAFKA_SECRET_ARN instead.",
    )
  }
  return warnings
}

/**
 * The region to sign MSK IAM tokens for: AWS_REGION (set by Lambda), AWS_DEFAULT_REGION, or the
 * region in an MSK broker's host name (`b-1.orders.abc123.c2.kafka.eu-west-1.amazonaws.com`).
 */
export function mskIamRegion(bootstrapServers: readonly string[], env: Environment): string | undefined {
  const fromEnv = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim()
  if (fromEnv) return fromEnv
  for (const server of bootstrapServers) {
    const match = /\.kafka(?:-serverless)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?:\d+$/.exec(
      server,
    )
    if (match) return match[1]
  }
  return undefined
}
