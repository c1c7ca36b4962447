import { describe, expect, it } from 'vitest'
import { mskIamRegion, securityWarnings } from '../../../src/config/security-rules.ts'

describe('securityWarnings', () => {
  it('warns that PLAIN over SASL_PLAINTEXT sends the password in clear text', () => {
    expect(
      securityWarnings({ kafkaSecurityProtocol: 'SASL_PLAINTEXT', kafkaSaslMechanism: 'PLAIN' }, {}),
    ).toEqual([expect.stringContaining('sends the password in clear text')])
    expect(securityWarnings({ kafkaSecurityProtocol: 'SASL_SSL', kafkaSaslMechanism: 'PLAIN' }, {})).toEqual(
      [],
    )
  })

  it("warns about a password in a Lambda function's environment, not about one on a laptop", () => {
    const settings = {
      kafkaSecurityProtocol: 'SASL_SSL',
      kafkaSaslMechanism: 'SCRAM-SHA-512',
      kafkaSaslPassword: 'pw',
    } as const

    expect(securityWarnings(settings, { AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda' })).toEqual([
      expect.stringContaining('set KAFKA_SECRET_ARN instead'),
    ])
    expect(securityWarnings(settings, {})).toEqual([])
  })
})

describe('mskIamRegion', () => {
  it('takes AWS_REGION, then AWS_DEFAULT_REGION, then the region in an MSK broker name', () => {
    const msk = ['b-1.orders.abc123.c2.kafka.ap-southeast-2.amazonaws.com:9098']

    expect(mskIamRegion(msk, { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' })).toBe('eu-west-1')
    expect(mskIamRegion(msk, { AWS_DEFAULT_REGION: 'us-east-1' })).toBe('us-east-1')
    expect(mskIamRegion(msk, {})).toBe('ap-southeast-2')
    expect(mskIamRegion(['boot-abc.c3.kafka-serverless.us-west-2.amazonaws.com:9098'], {})).toBe('us-west-2')
    expect(mskIamRegion(['kafka.internal:9098'], {})).toBeUndefined()
  })
})
