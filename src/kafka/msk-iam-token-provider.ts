/**
 * Amazon MSK IAM authentication: SASL/OAUTHBEARER with a token signed by
 * `aws-msk-iam-sasl-signer-js` (a SigV4-presigned `kafka-cluster:Connect` URL, valid 15 minutes
 * or until the credentials expire, whichever is sooner).
 *
 * The Kafka client calls the provider at each authentication, including the re-authentications
 * MSK asks for before a session ends. The provider keeps the token until 80% of its lifetime
 * has passed, then signs a new one, so every session starts with a token that has time left.
 * Concurrent connections share one signing.
 */
import { messageOf } from '../errors.ts'
import { KafkaCredentialsError } from './errors.ts'

export interface MskAuthToken {
  readonly token: string
  /** Milliseconds since the epoch. */
  readonly expiryTime: number
}

/** AWS credentials, as the SDK's credential providers return them. */
export type AwsCredentialsProvider = () => Promise<{
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
  readonly expiration?: Date
}>

/** Signs a token for a region: the one thing taken from the signer library, so tests can fake it. */
export type MskTokenSigner = (region: string) => Promise<MskAuthToken>

/**
 * The signer on the default AWS credential chain (in Lambda: the execution role), or on the
 * given credentials. The library (and the AWS credential providers it brings) is loaded on
 * first use, so functions that do not use MSK IAM do not pay for it at cold start.
 */
export function createMskTokenSigner(credentials?: AwsCredentialsProvider): MskTokenSigner {
  return async (region) => {
    const signer = await import('aws-msk-iam-sasl-signer-js')
    return credentials === undefined
      ? signer.generateAuthToken({ region })
      : signer.generateAuthTokenFromCredentialsProvider({ region, awsCredentialsProvider: credentials })
  }
}

export interface MskIamTokenProviderOptions {
  readonly region: string
  readonly signer?: MskTokenSigner
  /** Milliseconds since the epoch; `Date.now` unless a test drives time. */
  readonly clock?: () => number
  /** The share of a token's lifetime after which a new one is signed. */
  readonly refreshAfterShare?: number
}

export type TokenProvider = () => Promise<string>

export function createMskIamTokenProvider(options: MskIamTokenProviderOptions): TokenProvider {
  const signer = options.signer ?? createMskTokenSigner()
  const clock = options.clock ?? Date.now
  const share = options.refreshAfterShare ?? 0.8
  let current: { token: string; refreshAt: number } | undefined
  let signing: Promise<string> | undefined

  const sign = async (): Promise<string> => {
    const issuedAt = clock()
    let signed: MskAuthToken
    try {
      signed = await signer(options.region)
    } catch (error) {
      throw new KafkaCredentialsError(
        'AWS_MSK_IAM',
        `Could not sign the AWS_MSK_IAM token for region ${options.region}: ${messageOf(error)}. ` +
          "It is signed with the default AWS credentials (in Lambda, the function's execution role); check that they are available here.",
        { cause: error, retriable: true },
      )
    }
    current = { token: signed.token, refreshAt: issuedAt + (signed.expiryTime - issuedAt) * share }
    return signed.token
  }

  return () => {
    if (current !== undefined && clock() < current.refreshAt) return Promise.resolve(current.token)
    signing ??= sign().finally(() => {
      signing = undefined
    })
    return signing
  }
}
