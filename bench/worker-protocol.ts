/**
 * What the benchmark's parent and its consumer worker processes say to each other over the
 * IPC channel. Each worker is a fresh Node process that imports the bundled handler, as a
 * Lambda execution environment does, so module load, memory and connections are its own.
 */

/**
 * The processor a worker's handler runs:
 * - `async`: `async process(message) {}`, the form the README shows users;
 * - `sync`: `process: () => {}`, the best case (no promise per message);
 * - `default`: the bundle's default `handler`, which logs each message (the seed's
 *   behaviour), at whatever LOG_LEVEL the environment sets;
 * - `io-5ms`: an async processor awaiting 5 ms per message, as a call to a service would.
 */
export type ProcessorKind = 'async' | 'sync' | 'default' | 'io-5ms'

export type WorkerJob =
  | {
      /** Import, invoke once (cold), then `warmInvocations` more in the same process (warm). */
      readonly mode: 'invocations'
      readonly bundle: string
      readonly processor: ProcessorKind
      readonly warmInvocations: number
    }
  | {
      /** Import, then invoke until an invocation ends caught up (or `maxInvocations`). */
      readonly mode: 'drain'
      readonly bundle: string
      readonly processor: ProcessorKind
      /** Stop after this many invocations even if not caught up (1: measure one invocation). */
      readonly maxInvocations: number
      /** Say `ready` after the import and wait for `go` (to start several workers at once). */
      readonly waitForGo: boolean
    }

/** Requests one invocation sent, by operation (DynamoDB) or API (Kafka), counted in the worker. */
export interface InvocationRequests {
  readonly dynamodb: Readonly<Record<string, number>>
  readonly kafka: Readonly<Record<string, number>>
  /**
   * Round trips in a row: how many times requests went out while none was waiting for its
   * answer. Requests sent together (the offsets Query beside ListOffsets, one PutItem per
   * partition) share one; each round trip costs the network's latency once.
   */
  readonly roundTrips: { readonly dynamodb: number; readonly kafka: number }
}

export interface InvocationsResult {
  readonly type: 'invocations'
  readonly importMs: number
  readonly firstInvocationMs: number
  /** From the process's time origin (its start) to the first invocation's return. */
  readonly sinceProcessStartMs: number
  readonly warmMs: readonly number[]
  /** The first invocation's requests, then each warm one's. */
  readonly requests: readonly InvocationRequests[]
  readonly messages: number
  readonly maxRssKb: number
}

export interface DrainResult {
  readonly type: 'drain'
  readonly importMs: number
  readonly messages: number
  readonly invocations: number
  /** From the first invocation's start to the last one's return. */
  readonly elapsedMs: number
  /** From the process's time origin (its start) to the last invocation's return. */
  readonly sinceProcessStartMs: number
  readonly stopReasons: Readonly<Record<string, number>>
  readonly offsetsWritten: number
  readonly checkpoints: number
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
