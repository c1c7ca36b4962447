import { MultipleErrors, ResponseError } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { errorName, layoutOf, partialLayoutOf } from '../../../src/kafka/topic-layout.ts'

const METADATA_API = 3
const LEADER_NOT_AVAILABLE = 5

/** The decoded Metadata answer of a 3-broker cluster: partition 1's only replica is on broker 2, which is down. */
function metadataAnswer(topicErrorCode = 0) {
  return {
    throttleTimeMs: 0,
    brokers: [
      { nodeId: 3, host: '127.0.0.1', port: 9093, rack: null },
      { nodeId: 4, host: '127.0.0.1', port: 9094, rack: null },
    ],
    clusterId: 'c',
    controllerId: 1,
    topics: [
      {
        errorCode: topicErrorCode,
        name: 'orders',
        topicId: 'f8e2b8a4-0000-4000-8000-000000000001',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 3,
            leaderEpoch: 0,
            replicaNodes: [3],
            isrNodes: [3],
            offlineReplicas: [],
          },
          {
            errorCode: LEADER_NOT_AVAILABLE,
            partitionIndex: 1,
            leaderId: -1,
            leaderEpoch: 0,
            replicaNodes: [2],
            isrNodes: [],
            offlineReplicas: [2],
          },
          {
            errorCode: 0,
            partitionIndex: 2,
            leaderId: 4,
            leaderEpoch: 0,
            replicaNodes: [4, 2],
            isrNodes: [4],
            offlineReplicas: [2],
          },
        ],
        topicAuthorizedOperations: 0,
      },
    ],
  }
}

const thrownFor = (answer: ReturnType<typeof metadataAnswer>, path = '/topics/0/partitions/1') =>
  new ResponseError(METADATA_API, 12, { [path]: [LEADER_NOT_AVAILABLE, null] }, answer)

describe('the topic layout', () => {
  it('is read from the answer inside the client error when only partitions failed', () => {
    // The client retries first: its error holds every attempt's; the last answer counts.
    const error = new MultipleErrors('metadata failed 3 times.', [
      thrownFor(metadataAnswer()),
      thrownFor(metadataAnswer()),
      thrownFor(metadataAnswer()),
    ])

    const layout = partialLayoutOf(error, 'orders')

    expect(layout).toEqual({
      id: 'f8e2b8a4-0000-4000-8000-000000000001',
      leaders: [3, -1, 4],
      brokers: new Map([
        [3, { host: '127.0.0.1', port: 9093 }],
        [4, { host: '127.0.0.1', port: 9094 }],
      ]),
      leaderless: new Map([
        [1, 'no leader (LEADER_NOT_AVAILABLE): its only replica, on broker 2, is offline'],
      ]),
    })
  })

  it('is not read when the topic itself failed (it does not exist, or access is denied)', () => {
    const unknownTopic = new ResponseError(METADATA_API, 12, { '/topics/0': [3, null] }, metadataAnswer(3))

    expect(partialLayoutOf(unknownTopic, 'orders')).toBeUndefined()
    expect(partialLayoutOf(thrownFor(metadataAnswer()), 'other-topic')).toBeUndefined()
    expect(partialLayoutOf(new Error('ECONNREFUSED'), 'orders')).toBeUndefined()
  })

  it('describes a partition whose replicas are not all offline by its replicas and those in sync', () => {
    const answer = metadataAnswer()
    answer.topics[0]!.partitions[1] = {
      errorCode: LEADER_NOT_AVAILABLE,
      partitionIndex: 1,
      leaderId: -1,
      leaderEpoch: 3,
      replicaNodes: [2, 3],
      isrNodes: [],
      offlineReplicas: [2],
    }

    expect(partialLayoutOf(thrownFor(answer), 'orders')?.leaderless.get(1)).toBe(
      'no leader (LEADER_NOT_AVAILABLE): replicas on broker(s) 2, 3, offline: 2, in sync: none',
    )
  })

  it("comes from the client's own metadata when nothing failed", () => {
    const layout = layoutOf(
      { id: 'topic-id', partitions: [{ leader: 3 }, { leader: 4 }] },
      new Map([[3, { host: 'b-3', port: 9092 }]]),
    )

    expect(layout).toEqual({
      id: 'topic-id',
      leaders: [3, 4],
      brokers: new Map([[3, { host: 'b-3', port: 9092 }]]),
      leaderless: new Map(),
    })
    expect(errorName(LEADER_NOT_AVAILABLE)).toBe('LEADER_NOT_AVAILABLE')
    expect(errorName(9999)).toBe('error code 9999')
  })
})
