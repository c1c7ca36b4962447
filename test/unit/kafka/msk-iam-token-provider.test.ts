import { describe, expect, it } from 'vitest'
import { KafkaCredentialsError } from '../../../src/kafka/errors.ts'
import {
  createMskIamTokenProvider,
  createMskTokenSigner,
  type MskTokenSigner,
} from '../../../src/kafka/msk-iam-token-provider.ts'

const credentials = async () => ({
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
})

/** A signer that counts its calls and issues numbered tokens valid for 15 minutes from the clock. */
function fakeSigner(clock: () => number) {
  const calls: string[] = []
  const signer: MskTokenSigner = async (region) => {
    calls.push(region)
    return { token: `token-${calls.length}`, expiryTime: clock() + 900_000 }
  }
  return { signer, calls }
}

describe('createMskTokenSigner', () => {
  it('signs a kafka-cluster:Connect token for the region with the given credentials, offline', async () => {
    const sign = createMskTokenSigner(credentials)

    const before = Date.now()
    const { token, expiryTime } = await sign('eu-west-1')

    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'))
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com')
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect')
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    )
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session-token-example')
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900')
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    expect(expiryTime).toBeGreaterThan(before + 880_000)
    expect(expiryTime).toBeLessThanOrEqual(Date.now() + 900_000)
  })
})

describe('createMskIamTokenProvider', () => {
  it('signs once for the region and hands the same token out while it is fresh', async () => {
    let now = 1_000_000
    const { signer, calls } = fakeSigner(() => now)
    const token = createMskIamTokenProvider({ region: 'eu-west-1', signer, clock: () => now })

    const first = await token()
    now += 700_000 // 700 s of a 900 s token
    const second = await token()

    expect([first, second]).toEqual(['token-1', 'token-1'])
    expect(calls).toEqual(['eu-west-1'])
  })

  it('signs a new token once 80% of its lifetime has passed, before it expires', async () => {
    let now = 1_000_000
    const { signer, calls } = fakeSigner(() => now)
    const token = createMskIamTokenProvider({ region: 'us-east-1', signer, clock: () => now })

    await token()
    now += 720_000 // 80% of 900 s: what a re-authentication asks for with time still left
    const refreshed = await token()
    now += 719_000
    const kept = await token()

    expect(refreshed).toBe('token-2')
    expect(kept).toBe('token-2')
    expect(calls).toHaveLength(2)
  })

  it('shares one signing between connections that ask at the same time', async () => {
    const now = 5_000
    const { signer, calls } = fakeSigner(() => now)
    const token = createMskIamTokenProvider({ region: 'eu-west-1', signer, clock: () => now })

    const tokens = await Promise.all([token(), token(), token()])

    expect(tokens).toEqual(['token-1', 'token-1', 'token-1'])
    expect(calls).toHaveLength(1)
  })

  it('says which region could not be signed for and why, and tries again on the next call', async () => {
    let failing = true
    const signer: MskTokenSigner = async () => {
      if (failing) throw new Error('Could not load credentials from any providers')
      return { token: 'token-ok', expiryTime: Date.now() + 900_000 }
    }
    const token = createMskIamTokenProvider({ region: 'ap-south-1', signer })

    const error = await token().catch((thrown: unknown) => thrown)
    failing = false
    const retried = await token()

    expect(error).toBeInstanceOf(KafkaCredentialsError)
    expect((error as Error).message).toContain('AWS_MSK_IAM token for region ap-south-1')
    expect((error as Error).message).toContain('Could not load credentials from any providers')
    expect(retried).toBe('token-ok')
  })
})
