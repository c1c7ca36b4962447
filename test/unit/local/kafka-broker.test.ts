import { describe, expect, it } from 'vitest'
import { roleProperties } from '../../../src/local/kafka-broker.ts'

describe('roleProperties', () => {
  it('keeps the single node broker and controller at once, as before', () => {
    expect(roleProperties(undefined, 9092, 9093)).toEqual({
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
      'inter.broker.listener.name': 'PLAINTEXT',
    })
  })

  it('gives a controller-only node its CONTROLLER listener and nothing a broker has', () => {
    const properties = roleProperties(
      { clusterId: 'c', nodeId: 1, role: 'controller', controllerQuorumVoters: '1@127.0.0.1:9093' },
      9092,
      9093,
    )
    expect(properties).toEqual({
      'process.roles': 'controller',
      'node.id': 1,
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'CONTROLLER://127.0.0.1:9093',
    })
  })

  it('gives a broker-only node its PLAINTEXT listener and the quorum it joins', () => {
    const properties = roleProperties(
      { clusterId: 'c', nodeId: 2, role: 'broker', controllerQuorumVoters: '1@127.0.0.1:9093' },
      9094,
      9095,
    )
    expect(properties).toEqual({
      'process.roles': 'broker',
      'node.id': 2,
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'PLAINTEXT://127.0.0.1:9094',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9094',
      'inter.broker.listener.name': 'PLAINTEXT',
    })
  })
})
