/**
 * The per-message CPU cost of the consumer's own path, without a broker: the benchmark's 200 B
 * JSON orders, already fetched, through `deliverRecords` with a no-op processor (synchronous, and
 * async as the README writes it), and its parts alone. It shows the floor under the drain's throughput (JSON.parse is most of it), measured
 * without the noise of the broker and kcat sharing the cores.
 *
 *   node bench/per-message.ts [--messages 200000] [--rounds 21]
 */
import { isUtf8 } from 'node:buffer'
import { parseArgs } from 'node:util'
import {
  DEFAULT_PROCESSING_POLICY,
  type DeliveryContext,
  deliverRecords,
} from '../src/cycle/deliver-records.ts'
import type { FetchedRecord, Logger, Metrics } from '../src/ports.ts'
import { createMessageReader, FILTERED } from '../src/processing/message-reader.ts'
import { jsonPayload } from './payloads.ts'

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '21' } },
})
const count = Number(values.messages)
const rounds = Number(values.rounds)

const records: FetchedRecord[] = Array.from({ length: count }, (_, index) => ({
  offset: index,
  timestamp: 0,
  key: null,
  value: Buffer.from(jsonPayload(index, 200)),
  headers: [],
}))

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const metrics = { count() {} } as unknown as Metrics
let done = 0
const context: DeliveryContext = {
  topic: 'bench',
  consumerId: 'bench_bench',
  partition: 0,
  processor: { process: () => {} },
  deadLetters: undefined,
  // As the handler runs it: PROCESSING_TIMEOUT_MS at its default, the invocation's deadline ahead.
  policy: { ...DEFAULT_PROCESSING_POLICY, timeoutMs: 30_000 },
  logger: quiet,
  metrics,
  clock: Date.now,
  sleep: async () => {},
  deadline: Date.now() + 15 * 60_000,
  shouldStop: () => false,
  onDone: () => {
    done++
  },
}

/** The README's form: an async processor, so a promise per message for the delivery to await. */
const asyncContext: DeliveryContext = { ...context, processor: { async process() {} } }

let sink = 0
const reader = createMessageReader()
const steps: Array<[string, () => unknown]> = [
  ['deliverRecords (decode, no-op processor, bookkeeping)', () => deliverRecords(records, context)],
  ['deliverRecords, async no-op processor (the README form)', () => deliverRecords(records, asyncContext)],
  [
    'reader.read (UTF-8 check, decode, JSON.parse, message)',
    () => {
      for (const record of records) {
        const message = reader.read('bench', 0, record)
        if (message !== FILTERED && !(message instanceof Promise)) sink += message.offset
      }
    },
  ],
  [
    'toString + JSON.parse alone',
    () => {
      for (const record of records)
        sink += (JSON.parse(record.value!.toString('utf8')) as { quantity: number }).quantity
    },
  ],
  [
    'isUtf8 alone',
    () => {
      for (const record of records) sink += isUtf8(record.value!) ? 1 : 0
    },
  ],
]

console.log(
  `${count.toLocaleString('en-US')} messages of 200 B, median of ${rounds} rounds, Node ${process.version}`,
)
// Warm-up: every step a few times first, so that none is timed while V8 still optimizes it.
for (let round = 0; round < 5; round++) for (const [, step] of steps) await step()
for (const [label, step] of steps) {
  const times: number[] = []
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    await step()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  const nsPerMessage = (ms: number) => ((ms / count) * 1e6).toFixed(0)
  console.log(
    `${label.padEnd(60)} ${nsPerMessage(times[Math.floor(rounds / 2)]!).padStart(5)} ns/message (min ${nsPerMessage(times[0]!)})`,
  )
}
if (done === 0 || sink === 0) throw new Error('nothing was measured')
