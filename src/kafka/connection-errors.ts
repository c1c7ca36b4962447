/**
 * Turns the Kafka client's connection failures into errors a user can act on: a refused
 * password names the user and the mechanism, a TLS failure says whether the CA, the host name
 * or the client certificate is wrong, and what to set. Everything else is left to the caller.
 *
 * The client wraps causes several levels deep (retries, brokers, connections), and some TLS
 * failures (a refused client certificate) only surface as a socket error on the connection,
 * while the request just sees "Connection closed": `ConnectionErrorRecorder` keeps those.
 */
import { LambdaKafkaConsumerError } from '../errors.ts'
import {
  type KafkaAuthDescription,
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaTlsError,
} from './errors.ts'

/** Every error in the tree under `error`: causes and aggregated errors, depth first. */
export function errorsIn(error: unknown, found: unknown[] = [], depth = 0): unknown[] {
  if (depth > 8 || error === undefined || error === null || found.includes(error)) return found
  found.push(error)
  if (error instanceof AggregateError) for (const inner of error.errors) errorsIn(inner, found, depth + 1)
  if (error instanceof Error) errorsIn(error.cause, found, depth + 1)
  return found
}

const field = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error
    ? (error as Record<string, unknown>)[name]
    : undefined
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

const UNTRUSTED_CA = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
])
const BAD_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])
/** TLS alerts a broker sends when it rejects the client's certificate, or the lack of one. */
const REFUSED_CLIENT_CERTIFICATE =
  /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|CERTIFICATE_EXPIRED|ACCESS_DENIED)/

/**
 * An authentication, authorization or TLS error for `error`, or undefined when it is none of
 * those (the caller reports it as Kafka being unavailable). `socketErrors` are errors the
 * connections reported on their own while the operation ran.
 */
export function securityErrorOf(
  error: unknown,
  auth: KafkaAuthDescription,
  bootstrapServers: readonly string[],
  socketErrors: readonly unknown[] = [],
): LambdaKafkaConsumerError | undefined {
  const all = [...errorsIn(error), ...socketErrors.flatMap((socketError) => errorsIn(socketError))]
  // Our own errors (a secret that cannot be read, a token that cannot be signed) say it best.
  const own = all.find((candidate) => candidate instanceof LambdaKafkaConsumerError)
  if (own instanceof LambdaKafkaConsumerError) return own

  const broker =
    all
      .map((candidate) => /Connection to (\S+:\d+) failed/.exec(text(field(candidate, 'message')) ?? '')?.[1])
      .find((address) => address !== undefined) ?? bootstrapServers.join(',')
  const apiIds = new Map(
    all.flatMap((candidate) => {
      const apiId = text(field(candidate, 'apiId'))
      return apiId === undefined ? [] : [[apiId, candidate] as const]
    }),
  )
  const credentialsHint =
    auth.mechanism === 'AWS_MSK_IAM'
      ? "Check that the function's role may kafka-cluster:Connect to this cluster, that IAM authentication is on for the cluster, and that AWS_REGION is the cluster's region."
      : `Check the user and the password (from ${auth.credentialsFrom ?? 'the configuration'}), and that the user exists for ${auth.mechanism ?? 'this mechanism'} on the cluster.`

  const failed = apiIds.get('SASL_AUTHENTICATION_FAILED')
  if (failed !== undefined) {
    const said = text(field(failed, 'serverErrorMessage'))
    const reason = said ? `the broker says "${said}"` : 'the broker refused the credentials'
    return new KafkaAuthenticationError(broker, auth, reason, credentialsHint, error)
  }
  if (apiIds.has('UNSUPPORTED_SASL_MECHANISM')) {
    const offered = all
      .map((candidate) => field(field(candidate, 'response'), 'mechanisms'))
      .find((mechanisms): mechanisms is string[] => Array.isArray(mechanisms))
    return new KafkaAuthenticationError(
      broker,
      auth,
      `the broker does not accept that mechanism on this listener${offered ? ` (it offers: ${offered.join(', ')})` : ''}`,
      'Set KAFKA_SASL_MECHANISM to one the listener offers, or use the listener (port) meant for it.',
      error,
    )
  }
  if (apiIds.has('ILLEGAL_SASL_STATE')) {
    return new KafkaAuthenticationError(
      broker,
      auth,
      'the listener on this port does not expect SASL',
      `Check that the port in KAFKA_BOOTSTRAP_SERVERS is the cluster's ${auth.securityProtocol} listener, or set KAFKA_SECURITY_PROTOCOL to the listener's protocol.`,
      error,
    )
  }
  const denied = [...apiIds.keys()].find((apiId) => apiId.endsWith('_AUTHORIZATION_FAILED'))
  if (denied !== undefined) {
    return new KafkaAuthorizationError(broker, auth, denied, error)
  }

  const tlsError = all.find((candidate) => {
    const code = text(field(candidate, 'code'))
    return (
      code !== undefined &&
      (UNTRUSTED_CA.has(code) ||
        BAD_DATES.has(code) ||
        code.startsWith('ERR_TLS_') ||
        code.startsWith('ERR_SSL_'))
    )
  })
  if (tlsError !== undefined) {
    const code = text(field(tlsError, 'code')) ?? 'TLS'
    const said = `${readableTlsMessage(text(field(tlsError, 'message')) ?? code)} (${code})`
    if (UNTRUSTED_CA.has(code)) {
      return new KafkaTlsError(
        broker,
        `the broker's certificate is not signed by a CA this client trusts: ${said}; trusted here: ${auth.trustedCas ?? 'the system CAs'}`,
        "Set KAFKA_SSL_CA_FILE (or `ca` in the secret) to the PEM of the CA that signed the broker's certificate.",
        code,
        error,
      )
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new KafkaTlsError(
        broker,
        `the broker's certificate is not issued for the name connected to: ${said}`,
        'Connect by a host name the certificate lists (KAFKA_BOOTSTRAP_SERVERS, and the listeners the brokers advertise), or have the certificate reissued; the name check is never turned off.',
        code,
        error,
      )
    }
    if (BAD_DATES.has(code)) {
      return new KafkaTlsError(
        broker,
        `the broker's certificate is not valid now: ${said}`,
        "Renew the broker's certificate (and check this machine's clock).",
        code,
        error,
      )
    }
    if (REFUSED_CLIENT_CERTIFICATE.test(code)) {
      return new KafkaTlsError(
        broker,
        auth.clientCertificateFrom === undefined
          ? `the broker refused the connection during the TLS handshake: ${said}; it likely requires a client certificate (mutual TLS) and none is configured`
          : `the broker refused the client certificate from ${auth.clientCertificateFrom}: ${said}`,
        auth.clientCertificateFrom === undefined
          ? 'Set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (or `cert` and `key` in the secret) to a client certificate the broker trusts.'
          : "Use a client certificate signed by a CA in the broker's trust store, still valid, with clientAuth usage.",
        code,
        error,
      )
    }
    return new KafkaTlsError(
      broker,
      said,
      'Check KAFKA_SECURITY_PROTOCOL and the TLS settings (KAFKA_SSL_*).',
      code,
      error,
    )
  }
  const messages = all.map((candidate) => text(field(candidate, 'message')) ?? '')
  if (messages.some((message) => message.startsWith('Broker requires TLS'))) {
    return new KafkaTlsError(
      broker,
      `the broker answered with TLS, but KAFKA_SECURITY_PROTOCOL=${auth.securityProtocol} does not use TLS`,
      "Set KAFKA_SECURITY_PROTOCOL=SSL (or SASL_SSL), or use the cluster's plaintext listener (port).",
      'TLS_REQUIRED',
      error,
    )
  }
  if (messages.some((message) => message.startsWith('TLS handshake failed'))) {
    return new KafkaTlsError(
      broker,
      `the broker closed the connection during the TLS handshake: this port may not be a TLS listener (KAFKA_SECURITY_PROTOCOL=${auth.securityProtocol})`,
      "Use the cluster's TLS listener (port), or the security protocol of the listener on this port.",
      'TLS_NOT_SPOKEN',
      error,
    )
  }
  return undefined
}

/**
 * OpenSSL's errors read `40BD...:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad
 * certificate:../deps/...:918:SSL alert number 42`: only the reason is for people.
 */
function readableTlsMessage(message: string): string {
  const reason = /error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+)/.exec(message)?.[1]
  return (reason ?? message.split('\n')[0] ?? message).trim()
}

interface EventSource {
  on(event: string, listener: (payload: unknown) => void): unknown
}

/**
 * Keeps the errors that the client's connections report by themselves (a broker closing the
 * connection after a TLS alert), so the next failed operation can say why.
 */
export class ConnectionErrorRecorder {
  readonly #recent: Array<{ at: number; error: unknown }> = []

  constructor(client: EventSource) {
    client.on('client:broker:connect', (payload) => {
      const connection = field(payload, 'connection')
      if (typeof connection === 'object' && connection !== null && 'on' in connection) {
        ;(connection as EventSource).on('error', (error) => this.record(error))
      }
    })
  }

  record(error: unknown, at = Date.now()): void {
    this.#recent.push({ at, error })
    if (this.#recent.length > 20) this.#recent.shift()
  }

  /** The errors recorded at or after `since` (ms since the epoch). */
  since(since: number): unknown[] {
    return this.#recent.filter((entry) => entry.at >= since).map((entry) => entry.error)
  }
}
