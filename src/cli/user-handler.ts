/**
 * `--handler <file>` of `lkc run` and `lkc start`: loads a team's own module (TypeScript through
 * Node's type stripping, or JavaScript) and gives back a handler to invoke. A handler made by
 * `createHandler` is made again from the same options with the terminal's logger (and, for
 * `lkc run`, the progress bar); any other exported `handler` function is invoked as it is.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LambdaKafkaConsumerError, messageOf } from '../errors.ts'
import {
  type ConsumerHandler,
  createHandler,
  type HandlerOptions,
  type InvocationContext,
} from '../lambda/handler.ts'
import { handlerOptionsOf } from '../lambda/handler-options.ts'
import { UsageError } from './command.ts'

/** What lkc itself brings to every handler it runs. */
export type TerminalOptions = Pick<HandlerOptions, 'env' | 'logger' | 'onProgress' | 'shouldStop'>

export interface LoadedHandler {
  /** The module's file, absolute; undefined for the default logging handler. */
  readonly file?: string
  readonly handler: (event: unknown, context: InvocationContext) => Promise<unknown>
  close(): Promise<void>
}

export class HandlerModuleError extends LambdaKafkaConsumerError {}

/** The handler to run: the module's `handler` when `file` is given, else the default logging one. */
export async function loadHandler(
  file: string | undefined,
  terminal: TerminalOptions,
): Promise<LoadedHandler> {
  if (file === undefined) return fromCreated(createHandler(terminal))
  const path = resolve(file)
  if (!existsSync(path)) {
    throw new UsageError(
      `--handler ${file}: no such file (looked for ${path}). Give the path of your module that exports \`handler\`.`,
    )
  }
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (error) {
    throw new HandlerModuleError(
      `--handler ${file}: the module could not be loaded: ${messageOf(error)}. ` +
        'Check that it runs with `node` (TypeScript files outside node_modules are run with their types stripped).',
      { cause: error },
    )
  }
  const exported = module.handler
  if (typeof exported !== 'function') {
    const names = Object.keys(module)
    throw new UsageError(
      `--handler ${file}: the module exports no \`handler\` function (it exports ${names.length > 0 ? names.join(', ') : 'nothing'}). ` +
        'Export one: `export const handler = createHandler({ process: async (message) => { ... } })`.',
    )
  }
  const options = handlerOptionsOf(exported)
  if (options !== undefined) return { ...fromCreated(createHandler({ ...options, ...terminal })), file: path }
  const plain = exported as (event: unknown, context: InvocationContext) => Promise<unknown>
  const close = (exported as { close?: unknown }).close
  return {
    file: path,
    handler: (event, context) => plain(event, context),
    close: async () => {
      if (typeof close === 'function') await (close as () => Promise<void>).call(exported)
    },
  }
}

function fromCreated(handler: ConsumerHandler): LoadedHandler {
  return { handler, close: () => handler.close() }
}
