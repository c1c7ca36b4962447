import { join } from 'node:path'
import { startLocalStack } from '../../local/local-stack.ts'
import {
  type SecuredKafkaBroker,
  securedListenerExports,
  startSecuredKafkaBroker,
  writeSecretFile,
} from '../../local/secured-kafka-broker.ts'
import { type Command, integerOption, stringOption } from '../command.ts'
import { createTerminalLogger } from '../terminal-logger.ts'

export const localCommand: Command = {
  help: [
    'Usage: lkc local [--topic T] [--partitions N] [--secure]',
    '',
    'Starts a real Kafka broker and the DynamoDB API (dynalite) on loopback, creates the topic,',
    'its dead-letter topic <topic>.dlq and the offsets table, prints the environment variables',
    'that point `lkc` at them, and',
    'runs until Ctrl-C, which stops both. In another terminal: paste the exports, then',
    '`npm run lkc -- produce`, `npm run lkc -- run`, `npm run lkc -- status`.',
    '',
    'Options:',
    '  --topic T        topic to create (default test-topic)',
    '  --partitions N   its partition count (default 3)',
    '  --secure         also open SASL (PLAIN, SCRAM) and TLS listeners, mutual TLS included, with',
    '                   a test CA and user; prints the exports for each, the credentials in a file',
  ].join('\n'),
  options: { topic: { type: 'string' }, partitions: { type: 'string' }, secure: { type: 'boolean' } },
  readsConfig: false,
  async run(options) {
    const topic = stringOption(options, 'topic') ?? 'test-topic'
    const partitions = integerOption(options, 'partitions', 3, 1)
    const log = createTerminalLogger({ prefix: '[local]' })
    log.info('Starting Apache Kafka and the DynamoDB API...')
    let secured: SecuredKafkaBroker | undefined
    const stack = await startLocalStack({
      topic,
      partitions,
      ...(options.secure === true && {
        startBroker: async () => {
          secured = await startSecuredKafkaBroker()
          return secured.broker
        },
      }),
    })
    process.stdout.write(
      `${Object.entries(stack.env)
        .map(([key, value]) => `export ${key}=${value}`)
        .join('\n')}\n`,
    )
    if (secured !== undefined) {
      const secretFile = join(secured.certificates.dir, 'kafka-secret.json')
      await writeSecretFile(secured, secretFile)
      process.stdout.write(
        `# The same broker through its secured listeners (user ${secured.user.username}; the password, CA and client key are in ${secretFile}):\n` +
          `${securedListenerExports(secured.listeners, secretFile, secured.certificates.caFile).join('\n')}\n`,
      )
    }
    log.info('Running; Ctrl-C stops Kafka and DynamoDB (their data is not kept)')
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await stack.stop()
    await (secured as SecuredKafkaBroker | undefined)?.stop() // its certificates and secret file too
    log.info('Stopped')
    return 0
  },
}
