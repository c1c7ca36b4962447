/**
 * What the function writes to CloudWatch Logs, read from a real process: Powertools JSON lines
 * with the request id and the cold-start flag, exactly one summary line per invocation, and
 * the embedded-metric-format documents the dashboard and alarms read.
 */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  consumerEnv,
  freshTopic,
  numberedMessages,
  produce,
  recreateTopic,
  storedItems,
} from '../../support/services.ts'

function metricNamesIn(lines: Array<Record<string, unknown>>): string[] {
  return lines
    .filter((line) => '_aws' in line)
    .flatMap((line) =>
      (
        line._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }
      ).CloudWatchMetrics.flatMap((set) => set.Metrics.map((metric) => metric.Name)),
    )
}

function invokeTwiceAsLambda(env: Record<string, string>): Promise<Array<Record<string, unknown>>> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [resolve(import.meta.dirname, '../../support/invoke-as-lambda.ts')],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return fail(new Error(`${error.message}\n${stderr}`))
        // In Lambda both streams go to the log (Powertools writes WARN and ERROR lines to stderr).
        done(
          `${stdout}\n${stderr}`
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        )
      },
    )
  })
}

describe("the function's logs and metrics in Lambda", () => {
  it('writes JSON lines with request id and cold start, one summary per invocation, and EMF metrics', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(6, 2))

    const lines = await invokeTwiceAsLambda({
      ...consumerEnv(topic, { LOG_LEVEL: 'INFO', DETAILED_METRICS: 'true', PARTITION_LAG_METRICS: 'true' }),
      // What Lambda sets for an on-demand function.
      AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
    })

    const summaries = lines.filter((line) => line.message === 'Run summary')
    expect(summaries).toHaveLength(2)
    expect(summaries.map((line) => [line.function_request_id, line.cold_start])).toEqual([
      ['request-1', true],
      ['request-2', false],
    ])
    expect(summaries[0]).toMatchObject({ level: 'INFO', service: 'kafka-consumer-lambda', count: 6, topic })
    expect(summaries[1]).toMatchObject({ count: 0 })
    const perMessage = lines.filter((line) => line.message === 'Processed message')
    expect(perMessage).toHaveLength(6)
    expect(perMessage[0]).toMatchObject({
      topic,
      partition: expect.any(Number),
      offset: 0,
      function_request_id: 'request-1',
    })

    const metricDocuments = lines.filter((line) => '_aws' in line)
    const metricNames = metricNamesIn(lines)
    for (const name of ['MessagesProcessed', 'RunDuration', 'RunSucceeded', 'MaxOffsetLag', 'OffsetLag']) {
      expect(metricNames).toContain(name)
    }
    const firstRun = metricDocuments.find((line) => 'MessagesProcessed' in line)
    expect(firstRun).toMatchObject({ MessagesProcessed: 6, topic })
    expect(metricDocuments.filter((line) => 'OffsetLag' in line).map((line) => line.partition)).toEqual(
      expect.arrayContaining(['0', '1']),
    )
  })

  it('publishes by default only the lag, every run, under the service POWERTOOLS_SERVICE_NAME names', async () => {
    const topic = await freshTopic(2)
    await produce(topic, numberedMessages(4, 2))

    const lines = await invokeTwiceAsLambda({
      ...consumerEnv(topic, { LOG_LEVEL: 'INFO', POWERTOOLS_SERVICE_NAME: 'orders-consumer' }),
      AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
    })

    // Processed counts, duration and success are in Lambda's free metrics and the summary line.
    expect(metricNamesIn(lines)).toEqual(['MaxOffsetLag', 'MaxOffsetLag'])
    expect(lines.filter((line) => '_aws' in line)).toEqual([
      expect.objectContaining({ MaxOffsetLag: 0, service: 'orders-consumer', topic }),
      expect.objectContaining({ MaxOffsetLag: 0, service: 'orders-consumer', topic }),
    ])
    expect(lines.find((line) => line.message === 'Run summary')).toMatchObject({ service: 'orders-consumer' })
  })

  it('after the topic is re-created: an error line naming both offsets and the fix, a failed run, and the metric', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(50, 1))
    const lambda = {
      ...consumerEnv(topic, { LOG_LEVEL: 'INFO', POWERTOOLS_SERVICE_NAME: 'orders-consumer' }),
      AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
    }
    await invokeTwiceAsLambda(lambda)
    await recreateTopic(topic, 1)
    await produce(topic, numberedMessages(10, 1))

    const lines = await invokeTwiceAsLambda(lambda)

    const found = lines.filter((line) => String(line.message).startsWith('Stored offset does not fit'))
    // Logged by the run that found it; the second run finds it recorded and fails the same way.
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({
      level: 'ERROR',
      partition: 0,
      storedOffset: 49,
      logStartOffset: 0,
      logEndOffset: 10,
      cause: expect.stringContaining('the topic was deleted and created again'),
      fix: expect.stringContaining('lkc reset --to earliest --partition 0'),
    })
    const failures = lines.filter((line) => line.errorType !== undefined)
    expect(failures.map((line) => line.errorType)).toEqual([
      'StoredOffsetMismatchError',
      'StoredOffsetMismatchError',
    ])
    expect(String(failures[0]?.errorMessage)).toContain('partition 0: stored offset 49, log 0 to 10')
    expect(lines.filter((line) => line.message === 'Processed message')).toEqual([])
    // Published without DETAILED_METRICS, every run, for the alarm.
    expect(metricNamesIn(lines).filter((name) => name === 'StoredOffsetMismatch')).toHaveLength(2)
    expect(lines.filter((line) => 'StoredOffsetMismatch' in line)).toEqual([
      expect.objectContaining({ StoredOffsetMismatch: 1, service: 'orders-consumer', topic }),
      expect.objectContaining({ StoredOffsetMismatch: 1, service: 'orders-consumer', topic }),
    ])
    expect(await storedItems(`lambda-consumer-group_${topic}`)).toEqual([
      expect.objectContaining({ partition: 0, offset: 49, offset_mismatch: 'topic-id' }),
    ])
    for (const line of [...found, ...failures]) console.log(JSON.stringify(line))
  })

  it('publishes no metrics with PUBLISH_METRICS=false (the stack without monitoring)', async () => {
    const topic = await freshTopic(1)
    await produce(topic, numberedMessages(2, 1))

    const lines = await invokeTwiceAsLambda({
      ...consumerEnv(topic, { LOG_LEVEL: 'INFO', PUBLISH_METRICS: 'false' }),
      AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
    })

    expect(lines.filter((line) => line.message === 'Run summary')).toHaveLength(2)
    expect(lines.filter((line) => '_aws' in line)).toEqual([])
  })
})
