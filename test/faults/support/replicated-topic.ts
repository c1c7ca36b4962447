/**
 * Replicated topics on the fault suite's own multi-broker cluster (src/local/kafka-cluster.ts):
 * creating one with a chosen replica list per partition (the first replica is the preferred
 * leader), and reading, from the outside, which broker leads each partition and which are in sync.
 */
import { Admin } from '@platformatic/kafka'

export interface PartitionState {
  readonly partition: number
  readonly leader: number
  readonly replicas: readonly number[]
  readonly isr: readonly number[]
}

/** `replicas[partition]` lists the partition's brokers, its preferred leader first. */
export async function createReplicatedTopic(
  bootstrapServers: readonly string[],
  topic: string,
  replicas: readonly (readonly number[])[],
  configs: Readonly<Record<string, string>> = {},
): Promise<void> {
  const admin = new Admin({ clientId: 'lkc-fault-admin', bootstrapBrokers: [...bootstrapServers] })
  try {
    await admin.createTopics({
      topics: [topic],
      assignments: replicas.map((brokers, partition) => ({ partition, brokers: [...brokers] })),
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    })
  } finally {
    await admin.close()
  }
}

/** Each partition's leader, replicas and in-sync replicas, as the cluster reports them now. */
export async function partitionStates(
  bootstrapServers: readonly string[],
  topic: string,
): Promise<PartitionState[]> {
  const admin = new Admin({ clientId: 'lkc-fault-admin', bootstrapBrokers: [...bootstrapServers] })
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const partitions = metadata.topics.get(topic)?.partitions ?? []
    return partitions.map((state, partition) => ({
      partition,
      leader: state.leader,
      replicas: state.replicas,
      isr: state.isr,
    }))
  } finally {
    await admin.close()
  }
}

/** Waits until `predicate` holds for the topic's partitions (a leader elected, a broker back in sync). */
export async function untilPartitions(
  bootstrapServers: readonly string[],
  topic: string,
  predicate: (states: readonly PartitionState[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<PartitionState[]> {
  const giveUpAt = Date.now() + timeoutMs
  for (;;) {
    const states = await partitionStates(bootstrapServers, topic).catch(() => [])
    if (states.length > 0 && predicate(states)) return states
    if (Date.now() > giveUpAt) {
      throw new Error(`${topic}: ${what} did not happen within ${timeoutMs} ms: ${JSON.stringify(states)}`)
    }
    await new Promise((wait) => setTimeout(wait, 250))
  }
}
