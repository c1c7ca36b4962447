/**
 * A small multi-node KRaft cluster on loopback, for the tests that need more than one broker
 * (a partition leader that moves): one controller-only node and a few broker-only nodes, each
 * its own JVM started by `startKafkaBroker` (same jars, same shell guard against orphans),
 * all formatted with one cluster id.
 *
 * Node ids: the controller is 1, the brokers 2, 3, ... A broker can be stopped and started
 * again on its port and data, as a broker restarts in a real cluster.
 */
import { rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  freePort,
  type KafkaBroker,
  KafkaBrokerError,
  type KafkaBrokerOptions,
  type KafkaClusterNode,
  newClusterId,
  startKafkaBroker,
} from './kafka-broker.ts'

export interface KafkaClusterOptions
  extends Pick<KafkaBrokerOptions, 'libsDir' | 'startTimeoutMs' | 'onLog' | 'logLevels'> {
  /** Broker-only nodes; default 2. */
  readonly brokers?: number
  /** Extra `server.properties` lines for every node (controller settings such as `auto.leader.rebalance.enable` included). */
  readonly extraProperties?: Readonly<Record<string, string | number>>
}

export interface KafkaCluster {
  readonly clusterId: string
  /** Every broker's `127.0.0.1:<port>`, comma-separated, as KAFKA_BOOTSTRAP_SERVERS takes them. */
  readonly bootstrapServers: string
  /** The brokers' node ids, in order. */
  readonly brokerIds: readonly number[]
  /** A broker's `127.0.0.1:<port>`, running or not. */
  address(nodeId: number): string
  /** Whether the broker is running now. */
  isRunning(nodeId: number): boolean
  /** Stops one broker (a controlled shutdown: its partitions' leadership moves first), keeping its data. */
  stopBroker(nodeId: number): Promise<void>
  /** Starts a stopped broker again, on its port and with its data. */
  startBroker(nodeId: number): Promise<void>
  /** Stops every node (brokers first: their shutdown asks the controller) and deletes their data. */
  stop(): Promise<void>
}

const CONTROLLER_ID = 1

export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const clusterId = newClusterId()
  const brokerIds = Array.from({ length: options.brokers ?? 2 }, (_, index) => CONTROLLER_ID + 1 + index)
  const controllerPort = await freePort()
  const ports = new Map(await Promise.all(brokerIds.map(async (id) => [id, await freePort()] as const)))
  const controllerQuorumVoters = `${CONTROLLER_ID}@127.0.0.1:${controllerPort}`
  const common = {
    ...(options.libsDir !== undefined && { libsDir: options.libsDir }),
    ...(options.startTimeoutMs !== undefined && { startTimeoutMs: options.startTimeoutMs }),
    ...(options.onLog !== undefined && { onLog: options.onLog }),
    ...(options.logLevels !== undefined && { logLevels: options.logLevels }),
  }
  const node = (nodeId: number, role: KafkaClusterNode['role']): KafkaClusterNode => ({
    clusterId,
    nodeId,
    role,
    controllerQuorumVoters,
  })

  const running = new Map<number, KafkaBroker>()
  /** Each broker's data directory once started: a restart reuses it. */
  const dataDirs = new Map<number, string>()
  const startBroker = async (nodeId: number) => {
    const port = ports.get(nodeId)
    if (port === undefined) throw new KafkaBrokerError(`No broker ${nodeId} in this cluster (${brokerIds}).`)
    if (running.has(nodeId)) return
    const dataDir = dataDirs.get(nodeId)
    const broker = await startKafkaBroker({
      ...common,
      clusterNode: node(nodeId, 'broker'),
      port,
      ...(dataDir !== undefined && { dataDir }),
      extraProperties: {
        // Consumer groups (a test reading a topic) must outlive one broker being away. Kafka
        // creates the group offsets topic at the first group's use, and only when this many
        // brokers run: use a group once while every broker does.
        'offsets.topic.replication.factor': Math.min(2, brokerIds.length),
        // A topic with replication factor 2 keeps accepting writes (acks=all) while one broker is away.
        'min.insync.replicas': 1,
        ...options.extraProperties,
      },
    })
    running.set(nodeId, broker)
    dataDirs.set(nodeId, broker.dataDir)
  }

  const controller = startKafkaBroker({
    ...common,
    clusterNode: node(CONTROLLER_ID, 'controller'),
    controllerPort,
    ...(options.extraProperties !== undefined && { extraProperties: options.extraProperties }),
  })
  // The brokers start with the controller (they retry until it answers): the JVMs boot side by side.
  const started = await Promise.allSettled([controller, ...brokerIds.map(startBroker)])
  const stopAll = async () => {
    await Promise.all([...running.values()].map((broker) => broker.stop()))
    running.clear()
    const [controllerStarted] = started
    if (controllerStarted?.status === 'fulfilled') await controllerStarted.value.stop()
    // A broker stopped and never started again kept its data for the restart.
    await Promise.all([...dataDirs.values()].map((dir) => rm(dirname(dir), { recursive: true, force: true })))
  }
  const failed = started.find((outcome) => outcome.status === 'rejected')
  if (failed !== undefined) {
    await stopAll()
    throw failed.reason
  }

  return {
    clusterId,
    bootstrapServers: brokerIds.map((id) => `127.0.0.1:${ports.get(id)}`).join(','),
    brokerIds,
    address: (nodeId) => `127.0.0.1:${ports.get(nodeId)}`,
    isRunning: (nodeId) => running.has(nodeId),
    async stopBroker(nodeId) {
      const broker = running.get(nodeId)
      if (broker === undefined) return
      running.delete(nodeId)
      await broker.stop({ keepData: true })
    },
    startBroker,
    stop: stopAll,
  }
}
