import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  UserError,
} from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { ConnectionErrorRecorder, securityErrorOf } from '../../../src/kafka/connection-errors.ts'
import {
  type KafkaAuthDescription,
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaCredentialsError,
  KafkaTlsError,
} from '../../../src/kafka/errors.ts'

const scram: KafkaAuthDescription = {
  securityProtocol: 'SASL_PLAINTEXT',
  mechanism: 'SCRAM-SHA-256',
  username: 'alice',
  credentialsFrom: 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
}
const tls: KafkaAuthDescription = { securityProtocol: 'SSL', trustedCas: 'KAFKA_SSL_CA_FILE (./ca.pem)' }
const servers = ['kafka-1.example:9093']

/** The shape the client throws: retries of "cannot connect to any broker" of a failed connection. */
function clientFailure(cause: Error, broker = 'kafka-1.example:9093') {
  const connection = () => new NetworkError(`Connection to ${broker} failed.`, { cause })
  return new MultipleErrors('Listing topics failed.', [
    new MultipleErrors('metadata failed 3 times.', [
      new MultipleErrors('Cannot connect to any broker.', [connection()]),
      new MultipleErrors('Cannot connect to any broker.', [connection()]),
    ]),
  ])
}

const tlsCause = (code: string, message: string) => Object.assign(new Error(message), { code })

describe('securityErrorOf', () => {
  it('a refused password: the broker, the user, the mechanism and what the broker said', () => {
    const error = clientFailure(
      new AuthenticationError('SASL authentication failed.', {
        cause: new ProtocolError(
          'SASL_AUTHENTICATION_FAILED',
          'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
        ),
      }),
    )

    const result = securityErrorOf(error, scram, servers)

    expect(result).toBeInstanceOf(KafkaAuthenticationError)
    expect(result?.message).toBe(
      'Kafka authentication failed at kafka-1.example:9093 for user "alice" with SASL mechanism SCRAM-SHA-256 over SASL_PLAINTEXT: ' +
        'the broker says "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256". ' +
        'Check the user and the password (from KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD), and that the user exists for SCRAM-SHA-256 on the cluster.',
    )
    expect(result?.retriable).toBe(false)
    expect(result?.cause).toBe(error)
  })

  it('a mechanism the listener does not offer', () => {
    const error = clientFailure(
      new AuthenticationError('Cannot find a suitable SASL mechanism.', {
        cause: new ProtocolError('UNSUPPORTED_SASL_MECHANISM'),
      }),
    )

    expect(securityErrorOf(error, scram, servers)?.message).toContain(
      'the broker does not accept that mechanism on this listener. Set KAFKA_SASL_MECHANISM',
    )
  })

  it('SASL sent to a listener that does not expect it', () => {
    const error = clientFailure(
      new AuthenticationError('Cannot find a suitable SASL mechanism.', {
        cause: new ProtocolError('ILLEGAL_SASL_STATE'),
      }),
    )

    expect(securityErrorOf(error, scram, servers)?.message).toContain(
      'the listener on this port does not expect SASL',
    )
  })

  it('a topic the principal may not read', () => {
    const error = new MultipleErrors('metadata failed', [new ProtocolError('TOPIC_AUTHORIZATION_FAILED')])

    const result = securityErrorOf(error, { securityProtocol: 'SASL_SSL', mechanism: 'AWS_MSK_IAM' }, servers)

    expect(result).toBeInstanceOf(KafkaAuthorizationError)
    expect(result?.message).toContain("for the function's IAM role with SASL mechanism AWS_MSK_IAM")
    expect(result?.message).toContain('kafka-cluster:DescribeTopic and kafka-cluster:ReadData')
  })

  it.each([
    [
      'SELF_SIGNED_CERT_IN_CHAIN',
      'self-signed certificate in certificate chain',
      'is not signed by a CA this client trusts',
    ],
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate',
      'is not signed by a CA this client trusts',
    ],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
      'is not issued for the name connected to',
    ],
    ['CERT_HAS_EXPIRED', 'certificate has expired', 'is not valid now'],
    [
      'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
      'ssl/tls alert bad certificate',
      'it likely requires a client certificate',
    ],
  ])('a TLS failure %s says what is wrong and what to set', (code, message, says) => {
    const result = securityErrorOf(clientFailure(tlsCause(code, message)), tls, servers)

    expect(result).toBeInstanceOf(KafkaTlsError)
    expect(result?.message).toContain('TLS connection to Kafka at kafka-1.example:9093 failed')
    expect(result?.message).toContain(says)
    expect(result?.message).toContain(`(${code})`)
    expect((result as KafkaTlsError).code).toBe(code)
  })

  it("shows OpenSSL's reason, not its raw error line", () => {
    const raw =
      '40BDA1BAF97F0000:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 42\n'
    const result = securityErrorOf(
      clientFailure(tlsCause('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', raw)),
      tls,
      servers,
    )

    expect(result?.message).toContain(
      'the broker refused the connection during the TLS handshake: ssl/tls alert bad certificate (ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE)',
    )
    expect(result?.message).not.toContain('rec_layer_s3')
  })

  it('names the trusted CAs when the chain is not trusted', () => {
    const result = securityErrorOf(
      clientFailure(tlsCause('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed')),
      tls,
      servers,
    )

    expect(result?.message).toContain('trusted here: KAFKA_SSL_CA_FILE (./ca.pem)')
    expect(result?.message).toContain('Set KAFKA_SSL_CA_FILE')
  })

  it('TLS on one side only', () => {
    const toTlsListener = new MultipleErrors('Listing topics failed.', [
      new UserError('Broker requires TLS.'),
    ])
    const toPlainListener = clientFailure(
      new UserError('TLS handshake failed. Please verify the broker supports TLS.'),
    )

    expect(securityErrorOf(toTlsListener, { securityProtocol: 'PLAINTEXT' }, servers)?.message).toContain(
      'the broker answered with TLS, but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS',
    )
    expect(securityErrorOf(toPlainListener, tls, servers)?.message).toContain(
      'this port may not be a TLS listener',
    )
  })

  it('uses the socket errors recorded meanwhile: a client certificate refused after the handshake', () => {
    const thrown = new MultipleErrors('metadata failed 3 times.', [new NetworkError('Connection closed')])
    const recorder = new ConnectionErrorRecorder({ on: () => undefined })
    recorder.record(new Error('old'), 1_000)
    recorder.record(
      new NetworkError('Connection error', {
        cause: tlsCause('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'ssl/tls alert bad certificate'),
      }),
      2_000,
    )

    const withoutRecorded = securityErrorOf(thrown, tls, servers)
    const withRecorded = securityErrorOf(thrown, tls, servers, recorder.since(1_500))

    expect(withoutRecorded).toBeUndefined()
    expect(recorder.since(1_500)).toHaveLength(1)
    expect(withRecorded?.message).toContain('the broker refused the connection during the TLS handshake')
  })

  it("passes the project's own errors through (a secret that cannot be read)", () => {
    const own = new KafkaCredentialsError('arn:x', 'Could not read the secret arn:x')
    const error = clientFailure(
      new AuthenticationError('The SASL/SCRAM password provider threw an error.', { cause: own }),
    )

    expect(securityErrorOf(error, scram, servers)).toBe(own)
  })

  it('leaves other failures to the caller', () => {
    const refused = clientFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))

    expect(securityErrorOf(refused, scram, servers)).toBeUndefined()
  })
})
