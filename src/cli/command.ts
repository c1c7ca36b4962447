/** What every `lkc` command shares: its shape, and the configuration section of `--help`. */
import type { ParseArgsConfig } from 'node:util'
import { type Environment, settings } from '../config/schema.ts'

export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>

export interface Command {
  readonly help: string
  readonly options: NonNullable<ParseArgsConfig['options']>
  /** Whether `--help` lists the environment variables (the command reads the consumer's config). */
  readonly readsConfig: boolean
  run(options: OptionValues, env: NodeJS.ProcessEnv): Promise<number>
}

/** Every setting with its default and, when set, the value seen here (secrets shown as ***). */
export function configHelp(env: Environment): string {
  const rows = Object.values(settings).map((spec) => {
    const raw = env[spec.key]
    const seen = raw === undefined ? '' : `  [set: ${'secret' in spec && spec.secret ? '***' : raw}]`
    const fallback =
      'defaultValue' in spec ? `default ${spec.defaultValue}` : 'required' in spec ? 'required' : 'optional'
    return `  ${spec.key} (${fallback})${seen}\n      ${spec.description}`
  })
  return ["Configuration (environment variables, the same as the Lambda function's):", ...rows].join('\n')
}

export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name]
  return typeof value === 'string' ? value : undefined
}

/** A whole number option, or an error naming the option and the value. */
export function integerOption(options: OptionValues, name: string, fallback: number, min = 0): number {
  const value = stringOption(options, name)
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new UsageError(`--${name} must be a whole number of at least ${min}, not "${value}"`)
  }
  return parsed
}

export class UsageError extends Error {}
