/**
 * One DynamoDB call of the offsets table or the run lease, with a time bound and its retries
 * in one place. A DynamoDB that accepts connections and never answers must make a call fail
 * in seconds, not hang the invocation past its timeout:
 *
 * - The SDK makes one attempt per call (`maxAttempts: 1`, see create-runtime.ts). Its own
 *   retries (4 attempts by default for DynamoDB) would multiply the app's and know nothing of
 *   the invocation's deadline.
 * - Each attempt is cut after `attemptTimeoutMs`, or at `endBy` when that comes first, by an
 *   abort signal on the call: the SDK's HTTP handler then destroys the request, whatever phase
 *   it is in (connecting, sending, waiting, reading the answer).
 * - `retryDelaysMs` retries what may succeed when tried again (a timeout, a throttle, a
 *   dropped connection), never past `endBy`. Reads and taking the lease use READ_RETRY_DELAYS_MS;
 *   offset saves are retried by the run cycle, which knows the invocation's deadline, and lease
 *   renewals by the lease keeper's next renewal.
 *
 * A failed condition (`ConditionalCheckFailedException`) is an answer, not a failure: it is
 * passed through for the caller to report as a conflict or a held lease.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { OffsetStoreError } from './errors.ts'

/** The longest one attempt of one DynamoDB call may take; DynamoDB answers in milliseconds. */
export const DYNAMODB_ATTEMPT_TIMEOUT_MS = 2000
/** Waits before the second and third attempt of a read (and of taking the lease). */
export const READ_RETRY_DELAYS_MS: readonly number[] = [100, 500]

export interface DynamoDbCallBounds {
  /** Default DYNAMODB_ATTEMPT_TIMEOUT_MS. */
  readonly attemptTimeoutMs?: number
  /** Clock time (ms since the epoch) by which every attempt must be over; none starts after it. */
  readonly endBy?: number | undefined
  /** Waits between attempts; none: one attempt. */
  readonly retryDelaysMs?: readonly number[]
}

export async function callDynamoDb<T>(
  what: string,
  table: string,
  call: (abortSignal: AbortSignal) => Promise<T>,
  bounds: DynamoDbCallBounds = {},
): Promise<T> {
  const attemptTimeoutMs = bounds.attemptTimeoutMs ?? DYNAMODB_ATTEMPT_TIMEOUT_MS
  const delays = bounds.retryDelaysMs ?? []
  for (let attempt = 0; ; attempt++) {
    const timeLeftMs = bounds.endBy === undefined ? attemptTimeoutMs : bounds.endBy - Date.now()
    if (timeLeftMs <= 0) {
      throw new OffsetStoreError(
        `Could not ${what} in DynamoDB table "${table}": the invocation's time for it was up before ` +
          `attempt ${attempt + 1} could start. Nothing was lost: the next run starts again from the stored offsets; ` +
          'a larger TIMEOUT_MARGIN_MS leaves more time for the final save.',
      )
    }
    const limitMs = Math.min(attemptTimeoutMs, timeLeftMs)
    let error: unknown
    try {
      return await withTimeout(limitMs, call)
    } catch (caught) {
      if (caught instanceof ConditionalCheckFailedException) throw caught
      error =
        caught instanceof AttemptTimeout
          ? new OffsetStoreError(
              `Could not ${what} in DynamoDB table "${table}": no answer within ${limitMs} ms. ` +
                'Nothing was lost: the next run starts again from the stored offsets.',
              caught.cause,
              true,
            )
          : OffsetStoreError.from(what, table, caught)
    }
    const delayMs = delays[attempt]
    const retriable = error instanceof OffsetStoreError && error.retriable
    if (
      !retriable ||
      delayMs === undefined ||
      (bounds.endBy !== undefined && Date.now() + delayMs >= bounds.endBy)
    ) {
      throw error
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
}

/** Our own cut of an attempt, told apart from any other abort. */
class AttemptTimeout extends Error {}

async function withTimeout<T>(limitMs: number, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new AttemptTimeout(`no answer within ${limitMs} ms`)),
    limitMs,
  )
  try {
    return await call(controller.signal)
  } catch (error) {
    if (controller.signal.aborted)
      throw new AttemptTimeout(`no answer within ${limitMs} ms`, { cause: error })
    throw error
  } finally {
    clearTimeout(timer)
  }
}
