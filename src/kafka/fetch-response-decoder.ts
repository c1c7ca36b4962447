/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: its types name Node's Buffer, so a user's tsc loads @types/node.
/**
 * A lean decoder for Kafka Fetch responses, versions 12 to 17 (the flexible versions every
 * Kafka since 2.7 answers with): the consumer's hot path. It reads one contiguous buffer with
 * plain index arithmetic and builds each record once, in the shape the cycle consumes
 * (`FetchedRecord`: absolute offset and timestamp as numbers, key and value as views of the
 * response), where the client's generic decoder reads through a chunked buffer, allocates
 * BigInts per record and leaves a second conversion to us. Profile evidence in bench/README.md.
 *
 * The response keeps the client's field names, so the client's own fetch machinery (fetch
 * sessions, retries, leader changes, read_committed filtering) works on it unchanged; only
 * `records` differs: `DecodedRecordBatch`es whose records are `FetchedRecord`s.
 */
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import type { FetchedRecord } from '../ports.ts'

export interface DecodedRecordBatch {
  readonly firstOffset: bigint
  /** `firstOffset + lastOffsetDelta`, as a number. */
  readonly lastOffset: number
  readonly lastOffsetDelta: number
  readonly attributes: number
  readonly producerId: bigint
  /** Decoded (and decompressed) on first access: see `LazyRecordBatch`. */
  readonly records: FetchedRecord[]
}

export interface DecodedFetchPartition {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  divergingEpoch: { epoch: number; endOffset: bigint }
  currentLeader: { leaderId: number; leaderEpoch: number }
  snapshotId: { endOffset: bigint; epoch: number }
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null
  preferredReadReplica: number
  /** `null` when the broker sent no records field content (as the client reports it). */
  records: DecodedRecordBatch[] | null
}

export interface DecodedFetchResponse {
  throttleTimeMs: number
  errorCode: number
  sessionId: number
  /** `topicId` is the topic's UUID (v13+) or its name (v12), as in the client's own response. */
  responses: Array<{ topicId: string; partitions: DecodedFetchPartition[] }>
  nodeEndpoints: Array<{ nodeId: number; host: string; port: number; rack: string | null }>
}

/** Errors in the client's `ResponseError` form: location -> [error code, message]. */
export type ResponseErrors = Array<[string, [number, null]]>

export class FetchDecodeError extends Error {
  override readonly name = 'FetchDecodeError'
}

export const MIN_FETCH_VERSION = 12
export const MAX_FETCH_VERSION = 17

const NO_HEADERS: ReadonlyArray<readonly [Buffer | null, Buffer | null]> = Object.freeze([])
/** Batch attribute bits (record batch format v2). */
const COMPRESSION_MASK = 0b111
const LOG_APPEND_TIME = 1 << 3
/** firstOffset (8) + length (4): what must be there to know a batch's size. */
const BATCH_HEAD = 12
/** From partitionLeaderEpoch to the record count, after the head. */
const BATCH_HEADER_AFTER_HEAD = 49

/** Decodes a Fetch response body (after the response header) of version 12 to 17. */
export function decodeFetchResponse(
  version: number,
  body: Buffer,
): { response: DecodedFetchResponse; errors: ResponseErrors } {
  if (version < MIN_FETCH_VERSION || version > MAX_FETCH_VERSION) {
    throw new FetchDecodeError(
      `Fetch v${version} is not decoded here (only v${MIN_FETCH_VERSION}-v${MAX_FETCH_VERSION})`,
    )
  }
  const cursor = new Cursor(body)
  const errors: ResponseErrors = []
  const throttleTimeMs = cursor.int32()
  const errorCode = cursor.int16()
  if (errorCode !== 0) errors.push([version === 12 ? '/' : '', [errorCode, null]])
  const sessionId = cursor.int32()
  const responses: DecodedFetchResponse['responses'] = []
  const topicCount = cursor.uvarint() - 1
  for (let topicIndex = 0; topicIndex < topicCount; topicIndex++) {
    const topicId = version >= 13 ? cursor.uuid() : cursor.compactString()
    const partitions: DecodedFetchPartition[] = []
    const partitionCount = cursor.uvarint() - 1
    for (let partitionIndex = 0; partitionIndex < partitionCount; partitionIndex++) {
      const partition = decodePartition(cursor)
      if (partition.errorCode !== 0) {
        errors.push([`/responses/${topicIndex}/partitions/${partitionIndex}`, [partition.errorCode, null]])
      }
      partitions.push(partition)
    }
    cursor.skipTaggedFields()
    responses.push({ topicId, partitions })
  }
  const response: DecodedFetchResponse = {
    throttleTimeMs,
    errorCode,
    sessionId,
    responses,
    nodeEndpoints: [],
  }
  cursor.taggedFields((tag) => {
    if (tag === 0 && version >= 16) {
      const count = cursor.uvarint() - 1
      for (let index = 0; index < count; index++) {
        const nodeId = cursor.int32()
        const host = cursor.compactString()
        const port = cursor.int32()
        const rack = cursor.compactNullableString()
        cursor.skipTaggedFields()
        response.nodeEndpoints.push({ nodeId, host, port, rack })
      }
      return true
    }
    return false
  })
  return { response, errors }
}

function decodePartition(cursor: Cursor): DecodedFetchPartition {
  const partition: DecodedFetchPartition = {
    partitionIndex: cursor.int32(),
    errorCode: cursor.int16(),
    highWatermark: cursor.bigInt64(),
    lastStableOffset: cursor.bigInt64(),
    logStartOffset: cursor.bigInt64(),
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: [],
  }
  const abortedCount = cursor.uvarint() - 1
  if (abortedCount >= 0) {
    const aborted: Array<{ producerId: bigint; firstOffset: bigint }> = []
    for (let index = 0; index < abortedCount; index++) {
      aborted.push({ producerId: cursor.bigInt64(), firstOffset: cursor.bigInt64() })
      cursor.skipTaggedFields()
    }
    partition.abortedTransactions = aborted
  }
  partition.preferredReadReplica = cursor.int32()
  const recordsSize = cursor.uvarint()
  if (recordsSize === 0) {
    partition.records = null
  } else if (recordsSize > 1) {
    const start = cursor.position
    const end = start + recordsSize - 1
    partition.records = decodeRecordBatches(cursor.buffer, start, end)
    cursor.position = end
  }
  cursor.taggedFields((tag) => {
    if (tag === 0) partition.divergingEpoch = { epoch: cursor.int32(), endOffset: cursor.bigInt64() }
    else if (tag === 1) partition.currentLeader = { leaderId: cursor.int32(), leaderEpoch: cursor.int32() }
    else if (tag === 2) partition.snapshotId = { endOffset: cursor.bigInt64(), epoch: cursor.int32() }
    else return false
    return true
  })
  return partition
}

/**
 * The record batches (format v2) in `buffer[start, end)`. A batch cut off by the response's
 * size limit (always the last one) is left out, as Kafka's consumers do; the next fetch
 * starts at it again.
 */
export function decodeRecordBatches(buffer: Buffer, start: number, end: number): DecodedRecordBatch[] {
  const batches: DecodedRecordBatch[] = []
  let position = start
  while (end - position >= BATCH_HEAD) {
    const batchLength = buffer.readInt32BE(position + 8)
    const batchEnd = position + BATCH_HEAD + batchLength
    if (batchEnd > end || batchLength < BATCH_HEADER_AFTER_HEAD) break
    const magic = buffer.readInt8(position + 16)
    if (magic !== 2) {
      throw new FetchDecodeError(
        `A record batch at offset ${buffer.readBigInt64BE(position)} uses message format v${magic}; only v2 (Kafka 0.11+) is supported`,
      )
    }
    batches.push(new LazyRecordBatch(buffer, position, batchEnd))
    position = batchEnd
  }
  return batches
}

/**
 * A record batch whose header is read at once (offsets, attributes, producer: all the fetch
 * machinery and read_committed filtering need) and whose records are built on first access.
 * A fetch response holds thousands of records per partition, but the cycle consumes one
 * partition at a time: built late, each partition's record objects die young, in V8's cheap
 * young-generation collections, instead of all surviving into the old generation while the
 * other partitions are processed (peak RSS, bench/README.md).
 */
class LazyRecordBatch implements DecodedRecordBatch {
  readonly firstOffset: bigint
  readonly lastOffset: number
  readonly lastOffsetDelta: number
  readonly attributes: number
  readonly producerId: bigint
  readonly #buffer: Buffer
  readonly #position: number
  readonly #end: number
  #records: FetchedRecord[] | undefined

  constructor(buffer: Buffer, position: number, end: number) {
    this.#buffer = buffer
    this.#position = position
    this.#end = end
    this.firstOffset = buffer.readBigInt64BE(position)
    this.attributes = buffer.readInt16BE(position + 21)
    this.lastOffsetDelta = buffer.readInt32BE(position + 23)
    this.lastOffset = int64(buffer, position) + this.lastOffsetDelta
    this.producerId = buffer.readBigInt64BE(position + 43)
  }

  get records(): FetchedRecord[] {
    this.#records ??= this.#decode()
    return this.#records
  }

  #decode(): FetchedRecord[] {
    const buffer = this.#buffer
    const position = this.#position
    const baseOffset = int64(buffer, position)
    const firstTimestamp = int64(buffer, position + 27)
    const maxTimestamp = int64(buffer, position + 35)
    const count = buffer.readInt32BE(position + 57)
    const recordsStart = position + 61
    const codec = this.attributes & COMPRESSION_MASK
    if (codec === 0) {
      return decodeRecords(
        buffer,
        recordsStart,
        this.#end,
        count,
        baseOffset,
        firstTimestamp,
        maxTimestamp,
        this.attributes,
      )
    }
    const compressed = buffer.subarray(recordsStart, this.#end)
    return decodeCompressedRecords(
      codec,
      compressed,
      count,
      baseOffset,
      firstTimestamp,
      maxTimestamp,
      this.attributes,
    )
  }
}

function decodeCompressedRecords(
  codec: number,
  compressed: Buffer,
  count: number,
  baseOffset: number,
  firstTimestamp: number,
  maxTimestamp: number,
  attributes: number,
): FetchedRecord[] {
  const algorithm = compressionsAlgorithmsByBitmask[codec]
  if (algorithm === undefined)
    throw new FetchDecodeError(`Unknown compression codec ${codec} in a record batch`)
  const buffer = algorithm.decompressSync(compressed)
  return decodeRecords(buffer, 0, buffer.length, count, baseOffset, firstTimestamp, maxTimestamp, attributes)
}

/** `count` records from `buffer[start, end)`: the hot loop, one object per record. */
function decodeRecords(
  buffer: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  firstTimestamp: number,
  maxTimestamp: number,
  attributes: number,
): FetchedRecord[] {
  const records: FetchedRecord[] = new Array(count)
  const appendTime = (attributes & LOG_APPEND_TIME) !== 0
  const cursor = new Cursor(buffer, start)
  let index = 0
  for (; index < count && cursor.position < end; index++) {
    const length = cursor.varint()
    const recordEnd = cursor.position + length
    cursor.position++ // record attributes: unused
    const timestampDelta = cursor.varlong()
    const offsetDelta = cursor.varint()
    const key = cursor.varintBytes()
    const value = cursor.varintBytes()
    const headerCount = cursor.varint()
    let headers = NO_HEADERS
    if (headerCount > 0) {
      const list: Array<readonly [Buffer | null, Buffer | null]> = new Array(headerCount)
      for (let header = 0; header < headerCount; header++)
        list[header] = [cursor.varintBytes(), cursor.varintBytes()]
      headers = list
    }
    cursor.position = recordEnd
    records[index] = {
      offset: baseOffset + offsetDelta,
      timestamp: appendTime ? maxTimestamp : firstTimestamp + timestampDelta,
      key,
      value,
      headers,
    }
  }
  if (index < count) records.length = index
  return records
}

/** A signed 64-bit big-endian integer as a number (exact below 2^53: offsets and timestamps). */
function int64(buffer: Buffer, position: number): number {
  return buffer.readInt32BE(position) * 4294967296 + buffer.readUInt32BE(position + 4)
}

/** Reads the Kafka protocol's primitive types from one contiguous buffer. */
class Cursor {
  readonly buffer: Buffer
  position: number

  constructor(buffer: Buffer, position = 0) {
    this.buffer = buffer
    this.position = position
  }

  int16(): number {
    const value = this.buffer.readInt16BE(this.position)
    this.position += 2
    return value
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.position)
    this.position += 4
    return value
  }

  bigInt64(): bigint {
    const value = this.buffer.readBigInt64BE(this.position)
    this.position += 8
    return value
  }

  uvarint(): number {
    const buffer = this.buffer
    let byte = buffer[this.position++]!
    let value = byte & 0x7f
    let shift = 7
    while (byte >= 0x80) {
      if (shift > 28) throw new FetchDecodeError('A varint in the Fetch response is longer than 5 bytes')
      byte = buffer[this.position++]!
      value |= (byte & 0x7f) << shift
      shift += 7
    }
    return value >>> 0
  }

  /** Zig-zag encoded 32-bit integer. */
  varint(): number {
    const raw = this.uvarint()
    return (raw >>> 1) ^ -(raw & 1)
  }

  /** Zig-zag encoded 64-bit integer, as a number (record timestamp deltas). */
  varlong(): number {
    const buffer = this.buffer
    let byte = buffer[this.position++]!
    let value = byte & 0x7f
    let multiplier = 128
    while (byte >= 0x80) {
      byte = buffer[this.position++]!
      value += (byte & 0x7f) * multiplier
      multiplier *= 128
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2
  }

  /** Varint length-prefixed bytes, `null` for length -1; a view, not a copy. */
  varintBytes(): Buffer | null {
    const length = this.varint()
    if (length < 0) return null
    const start = this.position
    this.position += length
    return this.buffer.subarray(start, this.position)
  }

  /** A UUID, hyphenated as the client writes topic ids. */
  uuid(): string {
    const hex = this.buffer.toString('hex', this.position, this.position + 16)
    this.position += 16
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  compactString(): string {
    return this.compactNullableString() ?? ''
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1
    if (length < 0) return null
    const value = this.buffer.toString('utf8', this.position, this.position + length)
    this.position += length
    return value
  }

  /** Tagged fields (KIP-482): `read` consumes the ones it knows and returns false for others, which are skipped. */
  taggedFields(read: (tag: number) => boolean): void {
    const count = this.uvarint()
    for (let index = 0; index < count; index++) {
      const tag = this.uvarint()
      const size = this.uvarint()
      const end = this.position + size
      if (!read(tag)) this.position = end
      this.position = end
    }
  }

  skipTaggedFields(): void {
    this.taggedFields(() => false)
  }
}
