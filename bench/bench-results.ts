/** The shape of `bench/results/<date>.json`: everything one `npm run bench` measured. */
import type { RunId } from './bench-options.ts'
import type { Spread } from './stats.ts'
import type { ProcessorKind } from './worker-protocol.ts'

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryMb: number
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAverageAtStart: readonly number[]
  readonly loadAverageAtEnd: readonly number[]
  readonly node: string
  readonly kcat: string
  /** The Python baseline's interpreter and packages. */
  readonly python?: string
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

/** Every drain measured both ways. */
export interface TwoWay {
  /** Inside the process: from the first invocation's start to the last one's return. */
  readonly inProcess: Rate
  /** The whole process, from its start to its exit: the runtime's start and the import included. */
  readonly wholeProcess: Rate
}

/** A rate's ratio to a baseline's (messages per second), both ways. */
export interface Ratios {
  readonly inProcess: number
  readonly wholeProcess: number
}

export interface KcatResult {
  /** kcat's only figure: start to exit. */
  readonly wholeProcess: Rate
  /** Sampled (see peak-rss.ts). */
  readonly peakRssMb: Spread
}

export interface PythonResult extends TwoWay {
  readonly peakRssMb: Spread
  /** The interpreter's imports of boto3 and confluent-kafka. */
  readonly importMs: Spread
  readonly toKcat?: Ratios
}

export interface DrainRunResult extends TwoWay {
  readonly run: RunId
  readonly processor: ProcessorKind
  /** Added to each DynamoDB request (0: straight to the DynamoDB API server). */
  readonly dynamodbLatencyMs: number
  /** LOG_LEVEL, when the run sets one. */
  readonly logLevel?: string
  readonly maxMessages: number
  /** Messages each repeat drained (the whole backlog, or the invocations' worth at MAX_MESSAGES=1000). */
  readonly messages: number
  readonly invocations: number
  /** Inside the process, median repeat. */
  readonly msPerInvocation: number
  /** Peak RSS of each repeat's process, MB (2^20 bytes). */
  readonly peakRssMb: Spread
  readonly rssAfterImportMb: number
  readonly importMs: Spread
  /** DynamoDB requests per invocation, by operation (median repeat), counted at the server. */
  readonly dynamodbPerInvocation: Readonly<Record<string, number>>
  readonly offsetsWrittenPerInvocation: number
  readonly checkpointsPerInvocation: number
  readonly toKcat?: Ratios
  readonly toPython?: Ratios
}

export interface ThroughputResult {
  readonly scenario: string
  readonly messages: number
  readonly sizeInBytes: number
  readonly partitions: number
  readonly repeats: number
  readonly produce: { readonly tool: string; readonly ms: number; readonly messagesPerSecond: number }
  readonly kcat?: KcatResult
  readonly python?: PythonResult
  readonly drains: readonly DrainRunResult[]
}

/** Requests per invocation, by DynamoDB operation and Kafka API, counted in the worker. */
export interface RequestCounts {
  readonly dynamodb: Readonly<Record<string, number>>
  readonly kafka: Readonly<Record<string, number>>
  /** Round trips in a row (requests sent together share one), see worker-protocol.ts. */
  readonly roundTrips: { readonly dynamodb: number; readonly kafka: number }
}

export interface ColdWarm {
  /**
   * `construct`: the construct's bundle of an entry (the default handler), the Kafka client from
   * the layer: what users deploy. `one-file`: the same in one file, as NodejsFunction made it
   * before issue 14. `self-contained`: this repository's bundle with everything inlined.
   */
  readonly bundle: 'construct' | 'one-file' | 'self-contained'
  /** What a cold start loads: the handler's file and the chunks it imports statically. */
  readonly bundleBytes: number
  readonly bundleGzipBytes: number
  /** In chunks beside it, loaded only by the settings that use them. */
  readonly lazyBytes?: number
  readonly dynamodbLatencyMs: number
  readonly importMs: Spread
  readonly firstInvocationMs: Spread
  /** Import plus first invocation: the cold figure. */
  readonly coldMs: Spread
  /** Node's own start included (process time origin to the first invocation's return). */
  readonly coldSinceProcessStartMs: Spread
  readonly warmMs: Spread
  /** Counted at the DynamoDB API server, all invocations together. */
  readonly dynamodbPerInvocation: Readonly<Record<string, number>>
  /** Counted in the worker: the cold invocation's requests, and a warm one's (means over the processes). */
  readonly coldRequests: RequestCounts
  readonly warmRequests: RequestCounts
  readonly idleRssMb: Spread
}

export interface ShardsResult {
  readonly scenario: string
  readonly messages: number
  readonly processor: ProcessorKind
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
  readonly processor: ProcessorKind
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

/** The I/O-bound scenario: an async processor awaiting 5 ms per message. */
export interface IoBoundResult {
  readonly messages: number
  readonly partitions: number
  readonly waitPerMessageMs: number
  /** One invocation (MAX_MESSAGES = the messages), inside the process. */
  readonly invocationMs: Spread
  readonly wholeProcessMs: Spread
  /** The waits alone, partitions one after another: messages × wait. */
  readonly sequentialFloorMs: number
  /** The waits alone, partitions side by side: the largest partition's messages × wait. */
  readonly parallelFloorMs: number
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
  /** undefined: not measured in this run (its section or runs were left out). */
  readonly met: boolean | undefined
  /** Why it was missed, or what the figure is made of. */
  readonly why?: string
}

export interface BundleComposition {
  readonly bundle: 'self-contained'
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
    readonly repeatOthers: number
    readonly coldRuns: number
    readonly warmPerProcess: number
    readonly dynamodbLatencyMs: number
    readonly defaultRunInvocations: number
  }
  /** How long the latency proxy actually held each request (its timer's lateness included). */
  readonly dynamodbProxy?: {
    readonly requests: number
    readonly meanHeldMs: number
    readonly maxHeldMs: number
  }
  readonly throughput: readonly ThroughputResult[]
  readonly overhead: readonly ColdWarm[]
  readonly composition: readonly BundleComposition[]
  readonly memory?: MemoryResult
  readonly ioBound?: IoBoundResult
  readonly shards?: ShardsResult
  readonly producer?: ProducerResult
  /** kcat's start-to-exit time on a topic of 800 small messages: its fixed cost in every kcat figure. */
  readonly kcatFixedMs?: Spread
  readonly targets: readonly TargetCheck[]
}
