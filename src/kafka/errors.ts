import { LambdaKafkaConsumerError } from '../errors.ts'

/** The topic does not exist on the cluster (it is never created by the consumer). */
export class TopicNotFoundError extends LambdaKafkaConsumerError {
  readonly topic: string

  constructor(topic: string, bootstrapServers: readonly string[], cause?: unknown) {
    super(
      `Topic "${topic}" does not exist on the Kafka cluster at ${bootstrapServers.join(',')}. ` +
        'Check KAFKA_TOPIC, or create the topic first; nothing was consumed or written.',
      { cause },
    )
    this.topic = topic
  }
}

/**
 * Some partitions have no leader now, or their leader does not answer, and the operation needs
 * every one it was asked for (`lkc reset --to <time>` looking their offsets up).
 */
export class PartitionsUnavailableError extends LambdaKafkaConsumerError {
  readonly topic: string
  readonly unavailable: ReadonlyMap<number, string>

  constructor(topic: string, unavailable: ReadonlyMap<number, string>, operation: string) {
    const list = [...unavailable].map(([partition, reason]) => `partition ${partition}: ${reason}`).join('; ')
    super(
      `Could not ${operation} for ${unavailable.size} partition(s) of ${topic}: ${list}. ` +
        'Bring the brokers holding their replicas back (their leader is elected then), or leave those ' +
        'partitions out (--partition).',
      { retriable: true },
    )
    this.topic = topic
    this.unavailable = unavailable
  }
}

/** No broker answered, or the cluster failed a request after the client's own retries. */
export class KafkaUnavailableError extends LambdaKafkaConsumerError {
  readonly bootstrapServers: readonly string[]

  constructor(operation: string, bootstrapServers: readonly string[], detail: string, cause?: unknown) {
    super(
      `Kafka ${operation} failed at ${bootstrapServers.join(',')}: ${detail}. ` +
        'Check that KAFKA_BOOTSTRAP_SERVERS is right and that the brokers are reachable from here ' +
        '(VPC subnets, security groups, listeners); the next run retries from the stored offsets.',
      { cause, retriable: true },
    )
    this.bootstrapServers = bootstrapServers
  }
}

/** Who connects and how, for error messages: never a secret. */
export interface KafkaAuthDescription {
  readonly securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
  readonly mechanism?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'AWS_MSK_IAM'
  /** The SASL user (PLAIN, SCRAM), as configured or read from the secret. */
  readonly username?: string
  /** Where the SASL credentials come from, e.g. `KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`. */
  readonly credentialsFrom?: string
  /** Which CAs are trusted, e.g. `the system CAs` or `KAFKA_SSL_CA_FILE (./ca.pem)`. */
  readonly trustedCas?: string
  /** Where the client certificate comes from; undefined without mutual TLS. */
  readonly clientCertificateFrom?: string
}

/** `user "alice" with SASL mechanism SCRAM-SHA-256`, or what stands for it. */
export function describeIdentity(auth: KafkaAuthDescription): string {
  if (auth.mechanism === 'AWS_MSK_IAM')
    return "the function's IAM role with SASL mechanism AWS_MSK_IAM (OAUTHBEARER)"
  if (auth.mechanism !== undefined)
    return `user "${auth.username ?? '?'}" with SASL mechanism ${auth.mechanism}`
  if (auth.clientCertificateFrom !== undefined)
    return `the client certificate from ${auth.clientCertificateFrom}`
  return 'no credentials'
}

/**
 * The broker refused the credentials (or the mechanism). Retrying with the same credentials
 * cannot help, so nothing retries it beyond the client's own few attempts.
 */
export class KafkaAuthenticationError extends LambdaKafkaConsumerError {
  readonly broker: string
  readonly mechanism: string | undefined
  readonly username: string | undefined

  constructor(broker: string, auth: KafkaAuthDescription, reason: string, fix: string, cause?: unknown) {
    super(
      `Kafka authentication failed at ${broker} for ${describeIdentity(auth)} over ${auth.securityProtocol}: ` +
        `${reason}. ${fix}`,
      { cause, retriable: false },
    )
    this.broker = broker
    this.mechanism = auth.mechanism
    this.username = auth.username
  }
}

/** The TLS connection failed: an untrusted or misnamed certificate, a refused client certificate, TLS on one side only. */
export class KafkaTlsError extends LambdaKafkaConsumerError {
  readonly broker: string
  /** Node.js's or OpenSSL's code for the failure, e.g. `SELF_SIGNED_CERT_IN_CHAIN`. */
  readonly code: string | undefined

  constructor(broker: string, reason: string, fix: string, code: string | undefined, cause?: unknown) {
    super(`TLS connection to Kafka at ${broker} failed: ${reason}. ${fix}`, {
      cause,
      retriable: false,
    })
    this.broker = broker
    this.code = code
  }
}

/** The Kafka credentials could not be read or are malformed (the secret, a file, the MSK IAM signer). */
export class KafkaCredentialsError extends LambdaKafkaConsumerError {
  /** Where they were read from, e.g. the secret's ARN or a file path. */
  readonly source: string

  constructor(source: string, message: string, details: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, details)
    this.source = source
  }
}

/** Signed in, but not allowed: ACLs, or the IAM policy of an MSK IAM cluster. */
export class KafkaAuthorizationError extends LambdaKafkaConsumerError {
  readonly broker: string
  /** The broker's error, e.g. `TOPIC_AUTHORIZATION_FAILED`. */
  readonly denial: string

  constructor(broker: string, auth: KafkaAuthDescription, denial: string, cause?: unknown) {
    const fix =
      auth.mechanism === 'AWS_MSK_IAM'
        ? "Allow the function's role kafka-cluster:Connect on the cluster and kafka-cluster:DescribeTopic and kafka-cluster:ReadData on the topic (see the README's Security section)."
        : 'Grant the principal Describe and Read on the topic (Kafka ACLs), and Describe on the cluster.'
    super(`Kafka refused access at ${broker} for ${describeIdentity(auth)}: ${denial}. ${fix}`, {
      cause,
      retriable: false,
    })
    this.broker = broker
    this.denial = denial
  }
}
