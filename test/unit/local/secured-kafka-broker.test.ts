import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/schema.ts'
import { securedListenerExports } from '../../../src/local/secured-kafka-broker.ts'

const listeners = {
  plaintext: '127.0.0.1:9092',
  saslPlaintext: '127.0.0.1:9093',
  saslSsl: 'localhost:9094',
  ssl: 'localhost:9095',
  mtls: 'localhost:9096',
}

describe('securedListenerExports', () => {
  it('gives one valid configuration per way in, pointing at the secret file rather than printing a password', () => {
    const lines = securedListenerExports(listeners, '/tmp/x/kafka-secret.json', '/tmp/x/ca.pem')
    const exports = lines.map((line) => line.split('\n')[1]?.replace('#   export ', '') ?? '')
    const envs = exports.map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('='))))

    expect(lines.map((line) => line.split('\n')[0])).toEqual([
      '# SCRAM-SHA-512 over TLS (as on Amazon MSK):',
      '# SCRAM-SHA-256 without TLS:',
      '# PLAIN over TLS:',
      '# TLS only:',
      '# mutual TLS:',
    ])
    const configs = envs.map((env) => loadConfig({ ...env, KAFKA_TOPIC: 'orders' }))

    expect(configs.map((config) => [config.kafkaSecurityProtocol, config.kafkaSaslMechanism])).toEqual([
      ['SASL_SSL', 'SCRAM-SHA-512'],
      ['SASL_PLAINTEXT', 'SCRAM-SHA-256'],
      ['SASL_SSL', 'PLAIN'],
      ['SSL', undefined],
      ['SSL', undefined],
    ])
    expect(configs.every((config) => config.kafkaSaslPassword === undefined)).toBe(true)
    expect(envs.map((env) => env.KAFKA_BOOTSTRAP_SERVERS)).toEqual([
      'localhost:9094',
      '127.0.0.1:9093',
      'localhost:9094',
      'localhost:9095',
      'localhost:9096',
    ])
  })
})
