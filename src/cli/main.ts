#!/usr/bin/env node
/**
 * `lkc`, the command line: wiring only. Each command reads the same configuration as the
 * Lambda function (environment variables) and calls the same code.
 */
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/errors.ts'
import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'
import { type Command, configHelp, UsageError } from './command.ts'
import { demoCommand } from './commands/demo.ts'
import { localCommand } from './commands/local.ts'
import { produceCommand } from './commands/produce.ts'
import { runCommand } from './commands/run.ts'
import { startCommand } from './commands/start.ts'
import { statusCommand } from './commands/status.ts'

const commands: Record<string, Command> = {
  run: runCommand,
  start: startCommand,
  status: statusCommand,
  produce: produceCommand,
  demo: demoCommand,
  local: localCommand,
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length))
  return [
    'lkc: a scheduled Kafka consumer for AWS Lambda, run locally',
    '',
    'Usage: lkc <command> [options]      (in this repository: npm run lkc -- <command>)',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `lkc <command> --help` for its options and the configuration it reads.',
  ].join('\n')
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  if (command === undefined) {
    process.stderr.write(`lkc: unknown command "${name}".\n\n${usage()}\n`)
    return 2
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    })
  } catch (error) {
    process.stderr.write(`lkc ${name}: ${messageOf(error)}\n\n${command.help}\n`)
    return 2
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.help}\n${command.readsConfig ? `\n${configHelp(env)}\n` : ''}`)
    return 0
  }
  try {
    return await command.run(parsed.values, env)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`lkc ${name}: ${error.message}\n`)
      return 2
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`lkc ${name}: ${error.message}\nRun \`lkc ${name} --help\` for every setting.\n`)
      return 2
    }
    const known = error instanceof LambdaKafkaConsumerError
    process.stderr.write(
      `lkc ${name}: ${known ? error.message : error instanceof Error ? error.stack : String(error)}\n`,
    )
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
