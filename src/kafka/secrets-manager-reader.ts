/**
 * Reads the Kafka secret from AWS Secrets Manager through Powertools Parameters, which caches
 * each value for `maxAge` (so warm invocations and new connections do not call the API each
 * time). Needs `secretsmanager:GetSecretValue` on the secret (and `kms:Decrypt` on its key when
 * the key is a customer-managed one).
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'
import type { Environment } from '../config/schema.ts'
import { messageOf } from '../errors.ts'
import { KafkaCredentialsError } from './errors.ts'
import type { SecretReader } from './kafka-credentials.ts'

export function createSecretsManagerReader(client: SecretsManagerClient): SecretReader {
  const provider = new SecretsProvider({ awsSdkV3Client: client })
  return {
    async read(secretId, maxAgeMs) {
      let value: unknown
      try {
        value = await provider.get(secretId, { maxAge: Math.max(1, Math.round(maxAgeMs / 1000)) })
      } catch (error) {
        const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
        const name = cause instanceof Error ? cause.name : 'Error'
        throw new KafkaCredentialsError(
          secretId,
          `Could not read the secret ${secretId} from Secrets Manager: ${name}: ${messageOf(cause)}. ` +
            "Check KAFKA_SECRET_ARN, and that the function's role may secretsmanager:GetSecretValue on it " +
            '(and kms:Decrypt on its key, if the key is your own).',
          { cause: error, retriable: true },
        )
      }
      if (typeof value !== 'string') {
        throw new KafkaCredentialsError(
          secretId,
          `The secret ${secretId} has no text value (a binary secret?). Store the Kafka credentials as a JSON text secret.`,
        )
      }
      return value
    },
  }
}

/**
 * The Secrets Manager client's settings, from the given environment rather than the process's,
 * so tests can point it elsewhere: AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL), the
 * SDK's own variables, for a local endpoint. The region is the secret's own (from its ARN: a
 * secret is read in the region it lives in), else AWS_REGION. In Lambda neither endpoint
 * variable is set and the SDK uses the function's role.
 */
export function secretsManagerClientConfig(env: Environment, secretArn?: string): SecretsManagerClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL
  const region = regionOfArn(secretArn) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  // As for DynamoDB: a loopback endpoint (a local Secrets Manager API) needs no real credentials.
  const loopback =
    endpoint !== undefined && /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?\/?$/.test(endpoint)
  return {
    // Bounds: a Secrets Manager that never answers fails the read (at cold start, or when a new
    // Kafka connection needs the password) in about 10 s: 3 attempts (the SDK's; nothing else
    // retries a read) of at most 3 s each.
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: 3000,
      throwOnRequestTimeout: true,
      socketTimeout: 3000,
    },
    ...(region !== undefined && { region }),
    ...(endpoint !== undefined && { endpoint }),
    ...(loopback &&
      env.AWS_ACCESS_KEY_ID === undefined &&
      env.AWS_PROFILE === undefined && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  }
}

export function createSecretsManagerClient(env: Environment, secretArn?: string): SecretsManagerClient {
  return new SecretsManagerClient(secretsManagerClientConfig(env, secretArn))
}

/** `eu-west-1` of `arn:aws:secretsmanager:eu-west-1:123456789012:secret:name`. */
function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined
}
