/**
 * The whole run cycle's CPU per message, without a broker: `runCycle` draining 8 partitions of
 * the benchmark's 200 B JSON orders, as `npm run bench`'s reference scenario does, but from
 * memory. The records are real Kafka record batches (the client's own encoder), decoded by the
 * lean Fetch decoder from a copy of their bytes on every fetch (as a Fetch response is copied
 * into one buffer), in rounds of at most FETCH_MAX_BYTES; saves answer after a DynamoDB-like
 * latency; checkpoints, PROCESSING_TIMEOUT_MS and the deadline at their defaults. What it
 * leaves out is the broker, the network and the Kafka client: it shows what the cycle costs,
 * quickly and without the noise of the other processes sharing the cores.
 *
 *   node bench/cycle-drain.ts [--messages 400000] [--rounds 7] [--processor sync|async|both]
 */
import { parseArgs } from 'node:util'
import { createRecordsBatch } from '@platformatic/kafka'
import { type CycleDependencies, type CycleOptions, runCycle } from '../src/cycle/run-cycle.ts'
import { decodeRecordBatches } from '../src/kafka/fetch-response-decoder.ts'
import type {
  FetchedPartition,
  FetchedRecord,
  FetchRequest,
  KafkaSource,
  Logger,
  OffsetStore,
  OffsetWrite,
  OffsetWriteResult,
  StoredOffset,
  StoredOffsets,
  TopicOffsets,
  TopicWatermarks,
} from '../src/ports.ts'
import type { Processor } from '../src/processing/message.ts'
import { jsonPayload } from './payloads.ts'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '400000' },
    rounds: { type: 'string', default: '7' },
    processor: { type: 'string', default: 'both' },
    partitions: { type: 'string', default: '8' },
  },
})
const count = Number(values.messages)
const rounds = Number(values.rounds)
const partitions = Number(values.partitions)
/** As the broker answers with the defaults: FETCH_MAX_BYTES 2 MB, FETCH_PARTITION_MAX_BYTES 1 MB. */
const FETCH_MAX_BYTES = 2 * 1024 * 1024
const PARTITION_MAX_BYTES = 1024 * 1024
/** Records per producer batch, about what `kcat -P` writes for 200 B lines. */
const RECORDS_PER_BATCH = 2000
const SAVE_LATENCY_MS = 4
const BROKER_LATENCY_MS = 1

/** One partition's log: its record batches, encoded once. */
interface Log {
  readonly batches: Array<{ firstOffset: number; lastOffset: number; bytes: Buffer }>
  readonly endOffset: number
}

function logOf(partition: number, messages: number): Log {
  const batches: Log['batches'] = []
  for (let first = 0; first < messages; first += RECORDS_PER_BATCH) {
    const size = Math.min(RECORDS_PER_BATCH, messages - first)
    const records = Array.from({ length: size }, (_, index) => ({
      topic: 'bench',
      value: Buffer.from(jsonPayload(partition * messages + first + index, 200)),
      timestamp: 1_700_000_000_000n,
    }))
    const bytes = Buffer.from(createRecordsBatch(records, { compression: 'none' }).buffer)
    bytes.writeBigInt64BE(BigInt(first), 0)
    batches.push({ firstOffset: first, lastOffset: first + size - 1, bytes })
  }
  return { batches, endOffset: messages }
}

class MemorySource implements KafkaSource {
  readonly #logs: Log[]
  constructor(logs: Log[]) {
    this.#logs = logs
  }
  async partitions(): Promise<number[]> {
    return this.#logs.map((_, index) => index)
  }
  async watermarks(_topic: string, asked: readonly number[]): Promise<TopicWatermarks> {
    return new Map(
      asked.map((partition) => [
        partition,
        { logStartOffset: 0, endOffset: this.#logs[partition]!.endOffset },
      ]),
    )
  }
  async offsetsAtTime(): Promise<TopicOffsets> {
    throw new Error('the cycle drain starts at earliest: it never looks offsets up by time')
  }
  async fetch(_topic: string, requests: readonly FetchRequest[]): Promise<FetchedPartition[]> {
    await new Promise((resolve) => setTimeout(resolve, BROKER_LATENCY_MS))
    let budget = FETCH_MAX_BYTES
    const answers: FetchedPartition[] = []
    for (const { partition, fetchOffset } of requests) {
      const log = this.#logs[partition]!
      const parts: Buffer[] = []
      let bytes = 0
      for (const batch of log.batches) {
        if (batch.lastOffset < fetchOffset) continue
        // The first batch always comes, as a broker sends it even when it exceeds the limits.
        if (
          parts.length > 0 &&
          (bytes + batch.bytes.length > PARTITION_MAX_BYTES || bytes + batch.bytes.length > budget)
        )
          break
        if (parts.length === 0 && budget <= 0) break
        parts.push(batch.bytes)
        bytes += batch.bytes.length
      }
      budget -= bytes
      // A copy, as the response is copied into one buffer.
      const body = Buffer.concat(parts)
      const batches = decodeRecordBatches(body, 0, body.length)
      const lastOffset = batches.length === 0 ? fetchOffset - 1 : batches[batches.length - 1]!.lastOffset
      answers.push(lazyPartition(partition, batches, fetchOffset, lastOffset))
    }
    return answers
  }
  async close(): Promise<void> {}
}

function lazyPartition(
  partition: number,
  batches: ReturnType<typeof decodeRecordBatches>,
  fetchOffset: number,
  lastOffset: number,
): FetchedPartition {
  let records: FetchedRecord[] | undefined
  return {
    partition,
    lastOffset,
    get records() {
      records ??= batches.flatMap((batch) => batch.records).filter((record) => record.offset >= fetchOffset)
      return records
    },
  }
}

class SlowOffsetStore implements OffsetStore {
  readonly #items = new Map<number, StoredOffset>()
  async read(): Promise<StoredOffsets> {
    return new Map(this.#items)
  }
  async recordStart(): Promise<void> {}
  async recordMismatch(partition: number): Promise<never> {
    throw new Error(`the cycle drain never finds a mismatch (partition ${partition})`)
  }
  async save(writes: readonly OffsetWrite[]): Promise<OffsetWriteResult[]> {
    await new Promise((resolve) => setTimeout(resolve, SAVE_LATENCY_MS))
    for (const write of writes) this.#items.set(write.partition, { offset: write.offset })
    return writes.map((write) => ({ partition: write.partition, status: 'saved' as const }))
  }
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const perPartition = Math.ceil(count / partitions)
process.stderr.write(`encoding ${partitions} x ${perPartition.toLocaleString('en-US')} records...\n`)
const logs = Array.from({ length: partitions }, (_, partition) => logOf(partition, perPartition))
const total = perPartition * partitions

async function drainOnce(processor: Processor): Promise<number> {
  const deps: CycleDependencies = {
    source: new MemorySource(logs),
    offsets: new SlowOffsetStore(),
    processor,
    logger: quiet,
  }
  const options: CycleOptions = {
    topic: 'bench',
    consumerId: 'bench_bench',
    maxMessages: 10_000_000,
    startPosition: 'earliest',
    deadline: Date.now() + 900_000,
    checkpoint: { everyMessages: 10_000, everyMs: 10_000 },
    processing: { attempts: 3, retryDelayMs: 200, timeoutMs: 30_000 },
    partitionConcurrency: 32,
  }
  const started = performance.now()
  const summary = await runCycle(deps, options)
  const elapsed = performance.now() - started
  if (summary.count !== total) throw new Error(`drained ${summary.count} of ${total} (${summary.stopReason})`)
  return elapsed
}

const processors: Array<[string, Processor]> = []
if (values.processor !== 'async') processors.push(['sync no-op processor', { process: () => {} }])
if (values.processor !== 'sync') processors.push(['async no-op processor', { async process() {} }])

console.log(
  `runCycle, ${total.toLocaleString('en-US')} messages of 200 B over ${partitions} partitions from memory, median of ${rounds} (interleaved), Node ${process.version}`,
)
for (const [, processor] of processors) await drainOnce(processor)
const times = processors.map((): number[] => [])
for (let round = 0; round < rounds; round++) {
  for (const [index, [, processor]] of processors.entries()) times[index]!.push(await drainOnce(processor))
}
for (const [index, [label]] of processors.entries()) {
  const sorted = times[index]!.sort((a, b) => a - b)
  const middle = sorted[Math.floor(rounds / 2)]!
  const ns = (ms: number) => ((ms / total) * 1e6).toFixed(0)
  console.log(
    `${label.padEnd(24)} ${ns(middle).padStart(5)} ns/message (min ${ns(sorted[0]!)}), ${Math.round((total / middle) * 1000).toLocaleString('en-US')} msgs/s`,
  )
}
