/**
 * `--handler <file>` of `lkc run` and `lkc start`: loads a team's own module (TypeScript through
 * Node's type stripping, or JavaScript) and gives back a handler to invoke. A handler made by
 * `createHandler` is made again from the same options with the terminal's logger (and, for
 * `lkc run`, the progress bar); any other exported `handler` function is invoked as it is.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, resolve } from 'node:path'
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
import { findUp } from './find-up.ts'

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
        (commonJsProblem(path, error) ??
          'Check that it runs with `node` (TypeScript files outside node_modules are run with their types stripped).'),
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

/**
 * A handler written with `import`/`export` in a project whose package.json does not say
 * `"type": "module"` (`npm init` writes `"type": "commonjs"`): Node loads it as CommonJS and
 * fails on the first `import`. This package is ESM only, so that is the fix to name.
 */
function commonJsProblem(path: string, error: unknown): string | undefined {
  const esmSyntax = /Cannot use import statement outside a module|Unexpected token 'export'/
  if (!(error instanceof SyntaxError) || !esmSyntax.test(error.message)) return undefined
  if (['.mts', '.mjs'].includes(extname(path))) return undefined
  const manifest = nearestPackageJson(dirname(path))
  const where = manifest === undefined ? 'no package.json above it' : manifest.path
  const says = manifest?.type === undefined ? 'no "type", which means CommonJS' : `"type": "${manifest.type}"`
  return (
    `It is an ES module (import/export), but Node reads it as CommonJS: ${where}${manifest === undefined ? '' : ` says ${says}`}. ` +
    'lambda-kafka-consumer is ESM only: set "type": "module" in your package.json (`npm pkg set type=module`), ' +
    'or name the file .mts (.mjs for JavaScript).'
  )
}

function nearestPackageJson(from: string): { path: string; type: string | undefined } | undefined {
  const path = findUp(from, 'package.json')
  if (path === undefined) return undefined
  try {
    const { type } = JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }
    return { path, type: typeof type === 'string' ? type : undefined }
  } catch {
    return { path, type: undefined }
  }
}
