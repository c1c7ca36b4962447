/**
 * The client's `Consumer` with one change: Fetch responses (v12-v17) are decoded by our lean
 * decoder (`fetch-response-decoder.ts`) instead of the client's generic one. The request, the
 * connection pool, fetch sessions, retries, leader changes and read_committed filtering all
 * stay the client's: the override is the API lookup (`kGetApi`, exported by the client for
 * this kind of extension), which hands the client an API built with the client's own
 * `createAPI` and request writer, and our response parser.
 *
 * Brokers that answer only Fetch v11 or older (Kafka before 2.7) get the client's own decoder,
 * whose records the source converts as before.
 *
 * One addition: `listOffsetsFrom`, ListOffsets sent to one given broker, each partition's answer
 * on its own (see there why the client's `listOffsets` cannot serve a topic with a partition
 * without a leader).
 */
import {
  type API,
  type Broker,
  type Callback,
  Consumer,
  createAPI,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  kGetConnection,
  kPerformWithRetry,
  type listOffsetsV9,
  type Reader,
  type RecordsBatch,
  ResponseError,
} from '@platformatic/kafka'
import type { FetchedRecord } from '../ports.ts'
import {
  type DecodedFetchResponse,
  type DecodedRecordBatch,
  decodeFetchResponse,
  MAX_FETCH_VERSION,
  MIN_FETCH_VERSION,
} from './fetch-response-decoder.ts'

const FETCH_API_KEY = 1

const requestWriters = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest,
} as const

type LeanFetchApi = API<unknown[], DecodedFetchResponse>
type ListOffsetsArguments = [
  replica: number,
  isolationLevel: number,
  topics: listOffsetsV9.ListOffsetsRequestTopic[],
]

/** One partition's answer to ListOffsets: its offset, or the error the broker gave for it. */
export type ListedOffset = { readonly offset: bigint } | { readonly errorCode: number }
const leanApis = new Map<number, LeanFetchApi>()

function leanFetchApi(version: keyof typeof requestWriters): LeanFetchApi {
  let api = leanApis.get(version)
  if (api === undefined) {
    api = createAPI<unknown[], DecodedFetchResponse>(
      FETCH_API_KEY,
      version,
      requestWriters[version],
      (_correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => {
        // The response arrives as a list of socket chunks: one copy into a contiguous buffer
        // (about a millisecond for the default 2 MB) makes every read after it plain index arithmetic.
        const body = reader.buffer.buffer.subarray(reader.position)
        const { response, errors } = decodeFetchResponse(apiVersion, body)
        if (errors.length > 0)
          throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response)
        return response
      },
    )
    leanApis.set(version, api)
  }
  return api
}

function isLeanVersion(version: number): version is keyof typeof requestWriters {
  return version >= MIN_FETCH_VERSION && version <= MAX_FETCH_VERSION
}

export class LeanFetchConsumer extends Consumer {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(
    name: string,
    callback: Callback<API<RequestArguments, ResponseType>>,
  ): void {
    if (name !== 'Fetch') {
      super[kGetApi](name, callback)
      return
    }
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error !== null || api === undefined || !isLeanVersion(api.version)) {
        callback(error, api)
        return
      }
      // The client calls this API with the request arguments of the version it negotiated and
      // hands the response to its fetch machinery, which reads only fields both decoders fill.
      callback(null, leanFetchApi(api.version) as unknown as API<RequestArguments, ResponseType>)
    })
  }

  /** `fetch`, with every record batch in the lean decoder's form, whichever decoder read it. */
  async fetchDecoded(options: Parameters<Consumer['fetch']>[0]): Promise<DecodedFetchResponse> {
    return asDecoded(await this.fetch(options))
  }

  /**
   * ListOffsets to `broker` (the partitions' leader) for `partitions` of `topic`, at `timestamp`
   * (-2n: the log start, -1n: the end). Each partition's answer stands on its own: a partition
   * the broker refuses (it no longer leads it) comes back as its error code, not as a failure of
   * the others. The client's own `listOffsets` cannot be used here: it first reads its metadata
   * for the whole topic, which throws while any one partition has no leader, and it fails as a
   * whole when any one leader fails. Connection failures are retried as the client retries them,
   * then reject.
   */
  listOffsetsFrom(
    broker: Broker,
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
    isolationLevel: number,
  ): Promise<Map<number, ListedOffset>> {
    const request = [
      {
        name: topic,
        partitions: partitions.map((partitionIndex) => ({
          partitionIndex,
          currentLeaderEpoch: -1,
          timestamp,
        })),
      },
    ]
    return new Promise((resolve, reject) => {
      this[kPerformWithRetry]<listOffsetsV9.ListOffsetsResponse>(
        'listOffsets',
        (retryCallback) => {
          this[kGetConnection](broker, (connectionError, connection) => {
            if (connectionError !== null || connection === undefined) {
              retryCallback(connectionError ?? new Error(`No connection to ${broker.host}:${broker.port}`))
              return
            }
            this[kGetApi]<ListOffsetsArguments, listOffsetsV9.ListOffsetsResponse>(
              'ListOffsets',
              (apiError, api) => {
                if (apiError !== null || api === undefined) {
                  retryCallback(apiError ?? new Error('The broker offers no ListOffsets API'))
                  return
                }
                api(connection, -1, isolationLevel, request, (error, response) => {
                  // Partition errors come as a ResponseError that carries the whole response.
                  const partial = error instanceof ResponseError ? listOffsetsResponseIn(error) : undefined
                  if (partial !== undefined) retryCallback(null, partial)
                  else retryCallback(error, response)
                })
              },
            )
          })
        },
        (error, response) => {
          if (error !== null || response === undefined) {
            reject(error ?? new Error('ListOffsets returned nothing'))
            return
          }
          const listed = new Map<number, ListedOffset>()
          for (const answered of response.topics) {
            if (answered.name !== topic) continue
            for (const partition of answered.partitions) {
              listed.set(
                partition.partitionIndex,
                partition.errorCode === 0 ? { offset: partition.offset } : { errorCode: partition.errorCode },
              )
            }
          }
          resolve(listed)
        },
        0,
      )
    })
  }
}

function listOffsetsResponseIn(error: ResponseError): listOffsetsV9.ListOffsetsResponse | undefined {
  const response: unknown = error.response
  return typeof response === 'object' &&
    response !== null &&
    'topics' in response &&
    Array.isArray(response.topics)
    ? (response as listOffsetsV9.ListOffsetsResponse)
    : undefined
}

type ClientFetchResponse = Awaited<ReturnType<Consumer['fetch']>>

/**
 * A Fetch response (also the one inside a Fetch error) with every batch in the lean form: the
 * lean decoder's batches as they are, the client's own (Fetch v11 and older) converted. The
 * client types the response with its own batch type whichever decoder filled it, hence the cast.
 */
export function asDecoded(response: ClientFetchResponse): DecodedFetchResponse {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const batches: Array<RecordsBatch | DecodedRecordBatch> | null | undefined = partition.records
      if (batches == null) continue
      for (let index = 0; index < batches.length; index++) {
        const batch = batches[index]!
        if (!('lastOffset' in batch)) batches[index] = fromClientBatch(batch)
      }
    }
  }
  return response as unknown as DecodedFetchResponse
}

function fromClientBatch(batch: RecordsBatch): DecodedRecordBatch {
  const firstOffset = Number(batch.firstOffset)
  const firstTimestamp = Number(batch.firstTimestamp)
  const records: FetchedRecord[] = batch.records.map((record) => ({
    offset: firstOffset + record.offsetDelta,
    timestamp: firstTimestamp + Number(record.timestampDelta),
    key: record.key,
    value: record.value,
    headers: record.headers,
  }))
  return {
    firstOffset: batch.firstOffset,
    lastOffset: firstOffset + batch.lastOffsetDelta,
    lastOffsetDelta: batch.lastOffsetDelta,
    attributes: batch.attributes,
    producerId: batch.producerId,
    records,
  }
}
