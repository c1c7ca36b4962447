import { describe, expect, it } from 'vitest'
import { secretsManagerClientConfig } from '../../../src/kafka/secrets-manager-reader.ts'

const arn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:AmazonMSK_orders-AbCdEf'
const bounds = {
  maxAttempts: 3,
  requestHandler: {
    connectionTimeout: 1000,
    requestTimeout: 3000,
    throwOnRequestTimeout: true,
    socketTimeout: 3000,
  },
}

describe('secretsManagerClientConfig', () => {
  it("reads the secret in its own region, whatever the function's", () => {
    expect(secretsManagerClientConfig({ AWS_REGION: 'eu-west-1' }, arn)).toEqual({
      ...bounds,
      region: 'ap-northeast-1',
    })
    expect(secretsManagerClientConfig({ AWS_REGION: 'eu-west-1' })).toEqual({
      ...bounds,
      region: 'eu-west-1',
    })
  })

  it('honours the SDK endpoint variables, with placeholder credentials on loopback only', () => {
    expect(
      secretsManagerClientConfig({ AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:5000' }, arn),
    ).toEqual({
      ...bounds,
      region: 'ap-northeast-1',
      endpoint: 'http://127.0.0.1:5000',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    expect(secretsManagerClientConfig({ AWS_ENDPOINT_URL: 'https://secrets.internal.example' }, arn)).toEqual(
      {
        ...bounds,
        region: 'ap-northeast-1',
        endpoint: 'https://secrets.internal.example',
      },
    )
  })

  it('bounds a read: three attempts (the only retries), each cut after 3 s, a timeout an error', () => {
    expect(secretsManagerClientConfig({}, arn)).toMatchObject(bounds)
  })
})
