#!/usr/bin/env node
/**
 * `lkc`, the command line: wiring only. Each command reads the same configuration as the
 * Lambda function (environment variables) and calls the same code.
 */
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/errors.ts'
import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'
import { cloneOnlyProblem } from './clone-only.ts'
import { type Command, configHelp, UsageError } from './command.ts'

/** Each command is imported only when it runs: `lkc run` never loads the local stack's code. */
const commands: Record<string, { summary: string; load: () => Promise<Command>; cloneOnly?: boolean }> = {
  run: {
    summary: 'Run one invocation now, as the Lambda function would, and print its summary',
    load: async () => (await import('./commands/run.ts')).runCommand,
  },
  start: {
    summary: 'Invoke on a schedule, as EventBridge does (every minute by default)',
    load: async () => (await import('./commands/start.ts')).startCommand,
  },
  status: {
    summary: 'Show, per partition, the stored offset, the log end offset, the lag and when it was saved',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  reset: {
    summary: 'Move where the next run starts (earliest, latest, an offset or a time), after showing the plan',
    load: async () => (await import('./commands/reset.ts')).resetCommand,
  },
  doctor: {
    summary:
      'Check the config, Kafka, the topic, DynamoDB, the offsets table and the schema registry, each with a fix',
    load: async () => (await import('./commands/doctor.ts')).doctorCommand,
  },
  cost: {
    summary: 'Estimate the monthly AWS cost for this config and schedule, itemized',
    load: async () => (await import('./commands/cost.ts')).costCommand,
  },
  produce: {
    summary: 'Send sample JSON messages to the topic (for trying things out, tests and benchmarks)',
    load: async () => (await import('./commands/produce.ts')).produceCommand,
  },
  demo: {
    summary:
      'Start a local Kafka and DynamoDB, produce sample messages and consume them on a schedule (in a clone of the repository)',
    load: async () => (await import('./commands/demo.ts')).demoCommand,
    cloneOnly: true,
  },
  local: {
    summary:
      'Start a local Kafka and DynamoDB for development, and print the environment to use them (in a clone of the repository)',
    load: async () => (await import('./commands/local.ts')).localCommand,
    cloneOnly: true,
  },
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
  const entry = commands[name]
  if (entry === undefined) {
    process.stderr.write(`lkc: unknown command "${name}".\n\n${usage()}\n`)
    return 2
  }
  const cloneOnly = entry.cloneOnly === true ? cloneOnlyProblem(name) : undefined
  if (cloneOnly !== undefined) {
    process.stderr.write(`lkc ${name}: ${cloneOnly}\n`)
    return 2
  }
  const command = await entry.load()
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
