/**
 * `lkc demo` and `lkc local` start a real Kafka broker from Apache Kafka's jars and the DynamoDB
 * API from dynalite: a clone of this project installs both (`npm run setup`), the npm package
 * neither (they are tools for developing here, not part of the product). Installed, those two
 * commands say so and what to do instead, not a stack trace about a missing module.
 */

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { findUp } from './find-up.ts'

/** Why `lkc <command>` cannot run from here, or undefined when it can. */
export function cloneOnlyProblem(command: string): string | undefined {
  // The setup script is the clone's: the package's `files` leave scripts/ out. The package's
  // root is the nearest folder with a package.json, from src/ or lib/src/.
  const manifest = findUp(import.meta.dirname, 'package.json')
  if (manifest !== undefined && existsSync(join(dirname(manifest), 'scripts/setup.sh'))) return undefined
  return [
    `\`lkc ${command}\` runs in a clone of the lambda-kafka-consumer repository: it starts a local Kafka broker`,
    "from Apache Kafka's jars and DynamoDB's API from dynalite, which the clone's `npm run setup` installs and",
    'the npm package does not. There: `npm run demo`, or `npm run lkc -- local` to start them for your own runs.',
    'Against your own Kafka and DynamoDB, from this project:',
    '  KAFKA_BOOTSTRAP_SERVERS=host:9092 KAFKA_TOPIC=orders npx lkc run --handler ./src/handler.ts',
    '(DYNAMODB_ENDPOINT points it at another DynamoDB API; `npx lkc doctor` checks the setup first.)',
  ].join('\n')
}
