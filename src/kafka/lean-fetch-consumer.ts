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
 */
import {
  type API,
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
