import { createSender, sampleMessages } from '../../kafka/topics.ts'
import { startLocalStack } from '../../local/local-stack.ts'
import { parseInterval } from '../../local/scheduler.ts'
import { type Command, integerOption, stringOption, UsageError } from '../command.ts'
import { createTerminalLogger } from '../terminal-logger.ts'
import { runSchedule } from './start.ts'

const TOPIC = 'test-topic'

export const demoCommand: Command = {
  help: [
    'Usage: lkc demo [--every <interval>] [--produce-every <interval>] [--batch N]   (npm run demo)',
    '',
    'Starts a real Kafka broker and the DynamoDB API (dynalite) on loopback, creates the topic',
    `"${TOPIC}" (3 partitions) and the table "kafka-consumer-offsets", produces 20 sample orders,`,
    'keeps producing a few more, and runs the consumer on a schedule (`lkc start`). Ctrl-C lets',
    'the running invocation save its offsets, then stops everything the demo started.',
    '',
    'Options:',
    '  --every <interval>          consumer schedule (default 10s)',
    '  --produce-every <interval>  how often new messages arrive (default 4s)',
    '  --batch N                   messages per arrival (default 3)',
  ].join('\n'),
  options: { every: { type: 'string' }, 'produce-every': { type: 'string' }, batch: { type: 'string' } },
  readsConfig: false,
  async run(options, env) {
    const everyMs = interval(stringOption(options, 'every') ?? '10s', 'every')
    const produceEveryMs = interval(stringOption(options, 'produce-every') ?? '4s', 'produce-every')
    const batch = integerOption(options, 'batch', 3, 1)
    const log = createTerminalLogger({ prefix: '[demo]    ' })
    const producerLog = createTerminalLogger({ prefix: '[producer]' })

    log.info('Starting Apache Kafka (KRaft, on loopback) and the DynamoDB API (dynalite, in this process)...')
    const startedAt = Date.now()
    const stack = await startLocalStack({ topic: TOPIC, partitions: 3 })
    log.info(`Ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`, {
      kafka: stack.broker.bootstrapServers,
      dynamodb: stack.dynamodb.endpoint,
      topic: TOPIC,
      table: 'kafka-consumer-offsets',
    })

    const sender = createSender([stack.broker.bootstrapServers])
    let produced = 0
    const produce = async (count: number) => {
      await sender.send(TOPIC, sampleMessages(count, produced))
      produced += count
      producerLog.info(`Produced ${count} order(s)`, { total: produced })
    }
    let producing: NodeJS.Timeout | undefined
    try {
      await produce(20)
      producing = setInterval(() => {
        produce(batch).catch((error: unknown) =>
          producerLog.warn('Producing failed', { error: String(error) }),
        )
      }, produceEveryMs)

      const consumerEnv = {
        ...env,
        ...stack.env,
        KAFKA_TOPIC: TOPIC,
        KAFKA_GROUP_ID: env.KAFKA_GROUP_ID ?? 'lambda-consumer-group',
      }
      const consumerLog = createTerminalLogger({
        prefix: '[consumer]',
        level: env.LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'INFO',
      })
      return await runSchedule({
        env: consumerEnv,
        everyMs,
        logger: consumerLog,
        onStopping: () => clearInterval(producing),
      })
    } finally {
      clearInterval(producing)
      await sender.close().catch(() => {})
      log.info('Stopping Kafka and DynamoDB...')
      await stack.stop()
      log.info('Everything the demo started is stopped. Bye.')
    }
  },
}

function interval(text: string, option: string): number {
  const ms = parseInterval(text)
  if (ms === undefined) throw new UsageError(`--${option} must look like 500ms, 10s or 1m, not "${text}"`)
  return ms
}
