/**
 * Replicated topics on the fault suite's own multi-broker cluster (src/local/kafka-cluster.ts):
 * creating one with a chosen replica list per partition (the first replica is the preferred
 * leader), and reading, from the outside, which broker leads each partition and which are in sync,
 * or which have no leader at all.
 */
import { Admin } from '@platformatic/kafka'
import { partialLayoutOf } from '../../../src/kafka/topic-layout.ts'

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

/**
 * The partitions without a leader now. The client's metadata call throws while any partition
 * has none; the answer it carries says which (read as the consumer reads it).
 */
export async function leaderlessPartitions(
  bootstrapServers: readonly string[],
  topic: string,
): Promise<number[]> {
  const admin = new Admin({ clientId: 'lkc-fault-admin', bootstrapBrokers: [...bootstrapServers] })
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const partitions = metadata.topics.get(topic)?.partitions ?? []
    return partitions.flatMap((state, partition) => (state.leader < 0 ? [partition] : []))
  } catch (error) {
    const layout = partialLayoutOf(error, topic)
    if (layout === undefined) throw error
    return [...layout.leaderless.keys()].sort((a, b) => a - b)
  } finally {
    await admin.close()
  }
}

/** Waits until exactly `expected` (partition numbers) are without a leader. */
export async function untilLeaderless(
  bootstrapServers: readonly string[],
  topic: string,
  expected: readonly number[],
  timeoutMs = 60_000,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs
  let seen: number[] | string = 'nothing yet'
  for (;;) {
    seen = await leaderlessPartitions(bootstrapServers, topic).catch((error: unknown) => String(error))
    if (Array.isArray(seen) && seen.join(',') === expected.join(',')) return
    if (Date.now() > giveUpAt) {
      throw new Error(
        `${topic}: partitions without a leader are not [${expected}] within ${timeoutMs} ms: ${JSON.stringify(seen)}`,
      )
    }
    await new Promise((wait) => setTimeout(wait, 250))
  }
}
