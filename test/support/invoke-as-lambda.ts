/**
 * Invokes the default handler twice in this process as Lambda would (its environment, a real
 * context object), so a test can read the exact stdout the function writes to CloudWatch Logs.
 * Run as a child process: `node test/support/invoke-as-lambda.ts` with the consumer's env.
 */
import { handler } from '../../src/lambda/default-handler.ts'

const context = (requestId: string) => ({
  functionName: 'kafka-consumer-lambda',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kafka-consumer-lambda',
  memoryLimitInMB: '512',
  awsRequestId: requestId,
  logGroupName: '/aws/lambda/kafka-consumer-lambda',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
})

/** A failed invocation is logged as Lambda's runtime logs it (errorType, errorMessage), and the next one still runs. */
async function invoke(requestId: string) {
  try {
    await handler({ 'detail-type': 'Scheduled Event' }, context(requestId))
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error))
    process.stdout.write(`${JSON.stringify({ errorType: failure.name, errorMessage: failure.message })}\n`)
  }
}

await invoke('request-1')
await invoke('request-2')
await handler.close()
