import { loadConfig } from '../../config/schema.ts'
import { createKafkaSecurity } from '../../kafka/connection-options.ts'
import { createSender, sampleMessages } from '../../kafka/topics.ts'
import { type Command, integerOption, stringOption } from '../command.ts'

export const produceCommand: Command = {
  help: [
    'Usage: lkc produce [--count N] [--topic T] [--first N]',
    '',
    'Sends N sample JSON orders to KAFKA_TOPIC (or --topic) on KAFKA_BOOTSTRAP_SERVERS,',
    'keyed order-<n>, spread over the partitions by key.',
    '',
    'Options:',
    '  --count N   how many (default 10)',
    '  --first N   the number of the first order (default 0)',
    '  --topic T   another topic than KAFKA_TOPIC',
  ].join('\n'),
  options: { count: { type: 'string' }, first: { type: 'string' }, topic: { type: 'string' } },
  readsConfig: true,
  async run(options, env) {
    const config = loadConfig(env)
    const count = integerOption(options, 'count', 10, 1)
    const first = integerOption(options, 'first', 0, 0)
    const topic = stringOption(options, 'topic') ?? config.kafkaTopic
    const sender = createSender(
      config.kafkaBootstrapServers,
      undefined,
      await createKafkaSecurity(config, env),
    )
    try {
      await sender.send(topic, sampleMessages(count, first))
    } finally {
      await sender.close()
    }
    process.stdout.write(`Sent ${count} message(s) to ${topic}\n`)
    return 0
  },
}
