import { describe, expect, it } from 'vitest'
import { sqsClientConfig } from '../../../src/runtime/create-runtime.ts'

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
