import { createInterface } from 'node:readline/promises'
import { consumerIdOf, loadConfig, startPositionOf } from '../../config/schema.ts'
import { PartitionsUnavailableError } from '../../kafka/errors.ts'
import { readTopicStatus } from '../../operations/partition-status.ts'
import {
  changesOf,
  formatPlan,
  parseResetTarget,
  planReset,
  ResetTargetError,
} from '../../operations/reset-plan.ts'
import { createRuntime } from '../../runtime/create-runtime.ts'
import { type Command, stringOption, UsageError } from '../command.ts'

export const resetCommand: Command = {
  help: [
    'Usage: lkc reset --to <earliest|latest|offset|ISO time> [--partition P] [--yes]',
    '',
    'Moves where the next run starts, for every partition or one. Shows the plan first (stored',
    'offset now and after, messages replayed or skipped) and asks for confirmation. Also what lets',
    'runs consume a partition stopped because its stored offset does not fit the log (a topic',
    "deleted and created again): each item written carries the topic's id now, and is consumed again.",
    '',
    'Options:',
    '  --to earliest       the first retained message (replays what is still in the log)',
    '  --to latest         the end: skips everything not yet processed',
    '  --to 1200           the next run starts at offset 1200 (stores 1199)',
    '  --to 2026-11-26T08:00:00Z   the first message at or after that time',
    '  --partition P       only partition P',
    '  --yes               do not ask (for scripts)',
    '',
    'Refuses while a run holds the lease. Each write is conditional on the offset shown in the',
    'plan: if a run saves in between, that partition is left alone and reported.',
  ].join('\n'),
  options: { to: { type: 'string' }, partition: { type: 'string' }, yes: { type: 'boolean' } },
  readsConfig: true,
  async run(options, env) {
    const to = stringOption(options, 'to')
    if (to === undefined) throw new UsageError('--to is required: earliest, latest, an offset or an ISO time')
    const target = asUsage(() => parseResetTarget(to))
    const partitionText = stringOption(options, 'partition')
    const onlyPartition = partitionText === undefined ? undefined : Number(partitionText)
    if (onlyPartition !== undefined && !(Number.isInteger(onlyPartition) && onlyPartition >= 0)) {
      throw new UsageError(`--partition must be a partition number, not "${partitionText}"`)
    }
    const config = loadConfig(env)
    const runtime = await createRuntime(config, env)
    try {
      const status = await readTopicStatus(
        runtime.source,
        runtime.offsets,
        config.kafkaTopic,
        startPositionOf(config),
      )
      const all = status.partitions
      const rows = onlyPartition === undefined ? all : all.filter((row) => row.partition === onlyPartition)
      if (rows.length === 0) {
        throw new UsageError(
          `--partition ${onlyPartition}: ${config.kafkaTopic} has partitions 0 to ${all.length - 1}`,
        )
      }
      const offsetsAtTime =
        target.kind === 'timestamp'
          ? await runtime.source.offsetsAtTime(
              config.kafkaTopic,
              rows.map((row) => row.partition),
              target.timestampMs,
            )
          : undefined
      // A partition whose offset at that time is unknown would otherwise be planned at its end.
      const notFound = new Map(
        [...(offsetsAtTime?.unavailable ?? [])].filter(([partition]) =>
          rows.some((row) => row.partition === partition && row.unavailable === undefined),
        ),
      )
      if (notFound.size > 0) {
        throw new PartitionsUnavailableError(config.kafkaTopic, notFound, 'look up the offsets at that time')
      }
      const plan = asUsage(() => planReset(rows, target, offsetsAtTime))
      const changes = changesOf(plan)
      process.stdout.write(
        `Reset plan for consumer_id ${consumerIdOf(config)} (table ${config.dynamodbTable}):\n`,
      )
      process.stdout.write(`${formatPlan(plan)}\n`)
      if (changes.length === 0) {
        process.stdout.write('Nothing to change.\n')
        return 0
      }
      // A running invocation would save over the reset (its writes are conditional, so it would
      // fail them and reprocess), or the reset would race its checkpoints: refuse while it runs.
      const lease = await runtime.lease.current()
      if (lease !== undefined && lease.expiresAt > Date.now()) {
        process.stderr.write(
          `Refusing: a run holds the lease (${lease.holder}) until ${new Date(lease.expiresAt).toISOString()}. ` +
            "Wait for it to end and try again, or pause the schedule first. A crashed run's lease expires by itself then.\n",
        )
        return 1
      }
      if (!options.yes && !(await confirm(`Apply to ${changes.length} partition(s)? [y/N] `))) {
        process.stdout.write('Nothing changed.\n')
        return process.stdin.isTTY ? 0 : 2
      }
      let conflicts = 0
      for (const step of changes) {
        const result = await runtime.offsets.overwrite(
          step.partition,
          step.newOffset,
          step.oldOffset ?? undefined,
          status.topicId,
        )
        if (result.status === 'saved') {
          process.stdout.write(`partition ${step.partition}: stored ${step.newOffset}\n`)
        } else {
          conflicts++
          process.stdout.write(
            `partition ${step.partition}: NOT changed, a run saved ${result.current} since the plan was read; run reset again\n`,
          )
        }
      }
      return conflicts > 0 ? 1 : 0
    } finally {
      await runtime.close()
    }
  },
}

/** A bad `--to` is a usage error (exit 2), like any other bad option. */
function asUsage<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    if (error instanceof ResetTargetError) throw new UsageError(error.message)
    throw error
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write('Not a terminal: pass --yes to apply the plan without asking.\n')
    return false
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout })
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim())
  } finally {
    prompt.close()
  }
}
