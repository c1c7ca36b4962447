import { describe, expect, it } from 'vitest'
import { dynamoDbClientConfig, sqsClientConfig } from '../../../src/runtime/create-runtime.ts'

describe('sqsClientConfig', () => {
  it('takes the region from an AWS queue URL and leaves the endpoint to the SDK', () => {
    const config = sqsClientConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq', {})

    expect(config.region).toBe('eu-west-1')
    expect(config.endpoint).toBeUndefined()
    expect(config.credentials).toBeUndefined()
  })

  it('uses any other queue URL as the endpoint, with placeholder credentials on loopback', () => {
    const config = sqsClientConfig('http://127.0.0.1:4566/123456789012/orders-dlq', {})

    expect(config.endpoint).toBe('http://127.0.0.1:4566')
    expect(config.credentials).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' })
  })

  it('keeps real credentials for a loopback endpoint when some are set', () => {
    const config = sqsClientConfig('http://localhost:9324/queue/dlq', {
      AWS_PROFILE: 'dev',
      AWS_REGION: 'us-west-2',
    })

    expect(config.region).toBe('us-west-2')
    expect(config.credentials).toBeUndefined()
  })
})

describe("the AWS clients' bounds", () => {
  it('DynamoDB: one SDK attempt per call (the adapters retry), each attempt bounded, a timeout an error', () => {
    const config = dynamoDbClientConfig({ dynamodbEndpoint: undefined }, {})

    expect(config.maxAttempts).toBe(1)
    expect(config.requestHandler).toEqual({
      connectionTimeout: 1000,
      requestTimeout: 2000,
      throwOnRequestTimeout: true,
      socketTimeout: 2000,
    })
    expect(dynamoDbClientConfig({ dynamodbEndpoint: 'http://127.0.0.1:4567' }, {}).maxAttempts).toBe(1)
  })

  it("SQS: the SDK's three attempts are the only retries, each attempt bounded, a timeout an error", () => {
    const config = sqsClientConfig('https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq', {})

    expect(config.maxAttempts).toBe(3)
    expect(config.requestHandler).toEqual({
      connectionTimeout: 1000,
      requestTimeout: 3000,
      throwOnRequestTimeout: true,
      socketTimeout: 3000,
    })
  })
})
