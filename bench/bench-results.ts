/** The shape of `bench/results/<date>.json`: everything one `npm run bench` measured. */
import type { Spread } from './stats.ts'

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryMb: number
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAverageAtStart: readonly number[]
  readonly loadAverageAtEnd: readonly number[]
  readonly node: string
  readonly kcat: string
  readonly commit: string
}

export interface Rate {
  /** Elapsed milliseconds of each repeat. */
  readonly runsMs: readonly number[]
  /** From the median elapsed time. */
  readonly messagesPerSecond: number
  /** Payload (value) bytes, 1 MB = 10^6 bytes. */
  readonly megabytesPerSecond: number
}

export interface LkcRate extends Rate {
  readonly maxMessages: number
  readonly invocations: number
  /** Peak RSS of each repeat's process, MB (2^20 bytes). */
  readonly peakRssMb: Spread
  readonly rssAfterImportMb: number
  /** DynamoDB requests per invocation, by operation (median repeat). */
  readonly dynamodbPerInvocation: Readonly<Record<string, number>>
  /** Offsets written, per invocation. */
  readonly offsetsWrittenPerInvocation: number
  /** Ratio to kcat's messages per second in the same run. */
  readonly ratioToKcat: number
}

export interface ThroughputResult {
  readonly scenario: string
  readonly messages: number
  readonly sizeInBytes: number
  readonly partitions: number
  readonly produce: { readonly tool: string; readonly ms: number; readonly messagesPerSecond: number }
  readonly kcat: Rate
  readonly oneInvocation: LkcRate
  readonly defaultMaxMessages: LkcRate
}

export interface ColdWarm {
  readonly bundle: 'self-contained' | 'layer'
  readonly bundleBytes: number
  readonly bundleGzipBytes: number
  readonly importMs: Spread
  readonly firstInvocationMs: Spread
  /** Import plus first invocation: the cold figure. */
  readonly coldMs: Spread
  /** Node's own start included (process time origin to the first invocation's return). */
  readonly coldSinceProcessStartMs: Spread
  readonly warmMs: Spread
  readonly dynamodbPerInvocation: Readonly<Record<string, number>>
  readonly idleRssMb: Spread
}

export interface ShardsResult {
  readonly scenario: string
  readonly messages: number
  /** Messages per second draining the backlog with one function, then with two side by side. */
  readonly oneShard: { readonly runsMs: readonly number[]; readonly messagesPerSecond: number }
  readonly twoShards: {
    readonly runsMs: readonly number[]
    readonly messagesPerSecond: number
    readonly messagesPerShard: readonly number[]
  }
}

export interface MemoryRow {
  readonly label: string
  /** Messages processed in the one invocation measured. */
  readonly messages: number
  /** V8 flags the worker ran with (in Lambda, the runtime's, on Node's command line); empty: this machine's defaults. */
  readonly nodeOptions: string
  readonly peakRssMb: Spread
  readonly rssAfterImportMb: number
}

export interface MemoryResult {
  readonly scenario: string
  readonly rows: readonly MemoryRow[]
}

export interface ProducerResult {
  readonly messages: number
  readonly sizeInBytes: number
  readonly kcatMessagesPerSecond: number
  readonly projectProducerMessagesPerSecond: number
}

export interface TargetCheck {
  readonly target: string
  readonly measured: string
  readonly met: boolean
}

export interface BundleComposition {
  readonly bundle: 'self-contained' | 'layer'
  /** Bytes in the minified bundle per npm package (the project's own code as `src`), largest first. */
  readonly packages: ReadonlyArray<{ readonly name: string; readonly bytes: number }>
}

export interface BenchResults {
  readonly startedAt: string
  readonly durationS: number
  readonly machine: Machine
  readonly options: {
    readonly scale: number
    readonly repeat: number
    readonly coldRuns: number
    readonly warmPerProcess: number
  }
  readonly throughput: readonly ThroughputResult[]
  readonly overhead: readonly ColdWarm[]
  readonly composition: readonly BundleComposition[]
  readonly memory?: MemoryResult
  readonly shards?: ShardsResult
  readonly producer?: ProducerResult
  /** kcat's start-to-exit time on a topic of 800 small messages: its fixed cost in every kcat figure. */
  readonly kcatFixedMs?: Spread
  readonly targets: readonly TargetCheck[]
}
