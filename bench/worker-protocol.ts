/**
 * What the benchmark's parent and its consumer worker processes say to each other over the
 * IPC channel. Each worker is a fresh Node process that imports the bundled handler, as a
 * Lambda execution environment does, so module load, memory and connections are its own.
 */

export type WorkerJob =
  | {
      /** Import, invoke once (cold), then `warmInvocations` more in the same process (warm). */
      readonly mode: 'invocations'
      readonly bundle: string
      readonly warmInvocations: number
    }
  | {
      /** Import, say `ready`, wait for `go`, then invoke until an invocation ends caught up. */
      readonly mode: 'drain'
      readonly bundle: string
      /** Stop after this many invocations even if not caught up (1: measure one invocation). */
      readonly maxInvocations: number
    }

export interface InvocationsResult {
  readonly type: 'invocations'
  readonly importMs: number
  readonly firstInvocationMs: number
  /** From the process's time origin (its start) to the first invocation's return. */
  readonly sinceProcessStartMs: number
  readonly warmMs: readonly number[]
  readonly messages: number
  readonly maxRssKb: number
}

export interface DrainResult {
  readonly type: 'drain'
  readonly importMs: number
  readonly messages: number
  readonly invocations: number
  /** From `go` to the last invocation's return. */
  readonly elapsedMs: number
  readonly stopReasons: Readonly<Record<string, number>>
  readonly offsetsWritten: number
  /** Peak resident set size of the whole process, import included (VmHWM on Linux). */
  readonly maxRssKb: number
  /** Resident set size after the import, before the first invocation. */
  readonly rssAfterImportKb: number
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly importMs: number }
  | InvocationsResult
  | DrainResult
  | { readonly type: 'error'; readonly message: string }

export type ParentMessage = { readonly type: 'go' }

export const WORKER_JOB_VARIABLE = 'LKC_BENCH_JOB'
