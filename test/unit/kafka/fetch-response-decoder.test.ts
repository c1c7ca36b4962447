/**
 * The lean Fetch decoder against the client's own decoder, on the same bytes: record batches
 * written by the client's encoder (every compression codec, headers, null keys and values),
 * framed in Fetch responses of each version the lean decoder reads.
 */
import {
  createRecordsBatch,
  fetchV12,
  fetchV13,
  fetchV16,
  fetchV17,
  type MessageRecord,
  Reader,
  type RecordsBatch,
} from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { decodeFetchResponse, decodeRecordBatches } from '../../../src/kafka/fetch-response-decoder.ts'
import type { FetchedRecord } from '../../../src/ports.ts'

const TOPIC_ID = '0123abcd-4567-89ef-0123-456789abcdef'

function messages(count: number, first = 0): MessageRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const id = first + index
    return {
      topic: 'orders',
      key: id % 3 === 0 ? undefined : Buffer.from(`order-${id}`),
      value: Buffer.from(JSON.stringify({ id, note: 'caf\u00e9', pad: 'x'.repeat(id % 50) })),
      headers: id % 2 === 0 ? new Map([[Buffer.from('trace'), Buffer.from(`t${id}`)]]) : undefined,
      timestamp: 1_700_000_000_000n + BigInt(id * 7),
    }
  })
}

/** A record batch as the client's producer writes it, moved to `baseOffset`. */
function batch(records: MessageRecord[], baseOffset: number, compression = 'none'): Buffer {
  const buffer = Buffer.from(
    createRecordsBatch(records, { compression: compression as 'none', producerId: 7n, producerEpoch: 0 })
      .buffer,
  )
  buffer.writeBigInt64BE(BigInt(baseOffset), 0)
  return buffer
}

const uvarint = (value: number): Buffer => {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80)
    rest >>>= 7
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}
const int16 = (value: number) => Buffer.from([(value >> 8) & 0xff, value & 0xff])
const int32 = (value: number) => {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32BE(value)
  return buffer
}
const int64 = (value: bigint) => {
  const buffer = Buffer.alloc(8)
  buffer.writeBigInt64BE(value)
  return buffer
}
const compactString = (text: string) =>
  Buffer.concat([uvarint(Buffer.byteLength(text) + 1), Buffer.from(text)])

interface PartitionSpec {
  readonly index: number
  readonly errorCode?: number
  readonly aborted?: ReadonlyArray<{ producerId: bigint; firstOffset: bigint }> | null
  readonly records: Buffer | null
}

/** A Fetch response body (after the header), written field by field from the protocol's spec. */
function fetchResponse(version: number, partitions: readonly PartitionSpec[]): Buffer {
  const parts: Buffer[] = [int32(0), int16(0), int32(42), uvarint(2)]
  parts.push(version >= 13 ? Buffer.from(TOPIC_ID.replaceAll('-', ''), 'hex') : compactString('orders'))
  parts.push(uvarint(partitions.length + 1))
  for (const partition of partitions) {
    parts.push(int32(partition.index), int16(partition.errorCode ?? 0), int64(1000n), int64(990n), int64(3n))
    const aborted = partition.aborted ?? null
    if (aborted === null) parts.push(uvarint(0))
    else {
      parts.push(uvarint(aborted.length + 1))
      for (const entry of aborted) parts.push(int64(entry.producerId), int64(entry.firstOffset), uvarint(0))
    }
    parts.push(int32(-1))
    if (partition.records === null) parts.push(uvarint(0))
    else parts.push(uvarint(partition.records.length + 1), partition.records)
    // one tagged field: current_leader (tag 1) = leader 1, epoch 5
    parts.push(uvarint(1), uvarint(1), uvarint(8), int32(1), int32(5))
  }
  parts.push(uvarint(0)) // topic tagged fields
  if (version >= 16) {
    const endpoint = Buffer.concat([
      uvarint(2),
      int32(1),
      compactString('broker-1'),
      int32(9092),
      uvarint(0),
      uvarint(0),
    ])
    parts.push(uvarint(1), uvarint(0), uvarint(endpoint.length), endpoint)
  } else {
    parts.push(uvarint(0))
  }
  return Buffer.concat(parts)
}

const clientDecoders = { 12: fetchV12, 13: fetchV13, 16: fetchV16, 17: fetchV17 } as const

/** The client's records in the lean form, for comparison. */
function recordsOfClientBatch(clientBatch: RecordsBatch): FetchedRecord[] {
  return clientBatch.records.map((record) => ({
    offset: Number(clientBatch.firstOffset) + record.offsetDelta,
    timestamp: Number(clientBatch.firstTimestamp) + Number(record.timestampDelta),
    key: record.key,
    value: record.value,
    headers: record.headers,
  }))
}

describe('decodeFetchResponse', () => {
  it.each([12, 13, 16, 17] as const)('reads v%i exactly as the client does', (version) => {
    // Prepare
    const body = fetchResponse(version, [
      { index: 0, records: Buffer.concat([batch(messages(5), 10), batch(messages(3, 5), 15)]) },
      { index: 1, records: batch(messages(4), 0), aborted: [{ producerId: 9n, firstOffset: 2n }] },
      { index: 2, records: null },
      { index: 3, records: Buffer.alloc(0) },
    ])

    // Act
    const { response, errors } = decodeFetchResponse(version, body)
    const expected = clientDecoders[version].parseResponse(0, 1, version, Reader.from(body))

    // Assess
    expect(errors).toEqual([])
    expect(response.sessionId).toBe(42)
    expect(response.nodeEndpoints).toEqual('nodeEndpoints' in expected ? expected.nodeEndpoints : [])
    expect(response.responses.map((topic) => topic.topicId)).toEqual(
      expected.responses.map((topic) => topic.topicId),
    )
    const partitions = response.responses[0]!.partitions
    const expectedPartitions = expected.responses[0]!.partitions
    expect(partitions).toHaveLength(4)
    for (const [index, partition] of partitions.entries()) {
      const { records: expectedBatches, ...expectedFields } = expectedPartitions[index]!
      const { records: batches, ...fields } = partition
      expect(fields).toEqual(expectedFields)
      expect(batches === null).toBe(expectedBatches === null)
      expect((batches ?? []).map((decoded) => decoded.records)).toEqual(
        (expectedBatches ?? []).map(recordsOfClientBatch),
      )
      expect(
        (batches ?? []).map(({ firstOffset, lastOffsetDelta, attributes, producerId }) => ({
          firstOffset,
          lastOffsetDelta,
          attributes,
          producerId,
        })),
      ).toEqual(
        (expectedBatches ?? []).map(({ firstOffset, lastOffsetDelta, attributes, producerId }) => ({
          firstOffset,
          lastOffsetDelta,
          attributes,
          producerId,
        })),
      )
    }
    expect(partitions[0]!.records!.map((decoded) => decoded.lastOffset)).toEqual([14, 17])
  })

  it('reports partition errors where the client does, with the response', () => {
    const body = fetchResponse(17, [
      { index: 0, records: batch(messages(2), 0) },
      { index: 1, errorCode: 1, records: null },
    ])

    const { response, errors } = decodeFetchResponse(17, body)

    expect(errors).toEqual([['/responses/0/partitions/1', [1, null]]])
    expect(response.responses[0]!.partitions[0]!.records![0]!.records).toHaveLength(2)
  })
})

describe('decodeRecordBatches', () => {
  it.each(['gzip', 'snappy', 'lz4', 'zstd'])('decompresses %s batches', (compression) => {
    const records = messages(20)
    const plain = decodeRecordBatches(batch(records, 100), 0, batch(records, 100).length)
    const compressed = batch(records, 100, compression)

    const decoded = decodeRecordBatches(compressed, 0, compressed.length)

    expect(decoded).toHaveLength(1)
    expect(decoded[0]!.attributes & 0b111).not.toBe(0)
    expect(decoded[0]!.records).toEqual(plain[0]!.records)
    expect(decoded[0]!.records.map((record) => record.offset)).toEqual(records.map((_, index) => 100 + index))
  })

  it('leaves out a batch cut off at the end of the response, as Kafka consumers do', () => {
    const whole = Buffer.concat([batch(messages(3), 0), batch(messages(3, 3), 3)])
    const cut = whole.subarray(0, whole.length - 10)

    const decoded = decodeRecordBatches(cut, 0, cut.length)

    expect(decoded.map((decodedBatch) => decodedBatch.lastOffset)).toEqual([2])
  })

  it('gives every record the batch time when the topic uses LogAppendTime', () => {
    const buffer = batch(messages(3), 0)
    buffer.writeInt16BE(buffer.readInt16BE(21) | 0b1000, 21)
    const maxTimestamp = Number(buffer.readBigInt64BE(35))

    const [decoded] = decodeRecordBatches(buffer, 0, buffer.length)

    expect(decoded!.records.map((record) => record.timestamp)).toEqual([
      maxTimestamp,
      maxTimestamp,
      maxTimestamp,
    ])
  })

  it('reads keys, values and headers as views of the response, not copies', () => {
    const buffer = batch(messages(2), 0)

    const [decoded] = decodeRecordBatches(buffer, 0, buffer.length)

    expect(decoded!.records[1]!.value!.buffer).toBe(buffer.buffer)
    expect(decoded!.records[0]!.headers).toEqual([[Buffer.from('trace'), Buffer.from('t0')]])
    expect(decoded!.records[0]!.key).toBeNull()
  })
})
