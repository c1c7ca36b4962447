/**
 * A real Apache Kafka 4 broker for tests, benchmarks and the demo, without Docker: the jars
 * `scripts/setup.sh` fetched from Maven Central, started in KRaft combined mode (broker and
 * controller in one JVM) on free loopback ports, in a fresh data directory.
 *
 * No orphan JVM: the JVM runs under a small shell guard that kills it when this process's
 * pipe to the guard closes, which happens however this process ends (even by SIGKILL).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { LambdaKafkaConsumerError } from '../errors.ts'

const projectRoot = resolve(import.meta.dirname, '../..')
const defaultLibs = join(projectRoot, '.cache/kafka/current/libs')

export interface KafkaBrokerOptions {
  /** Extra `server.properties` lines (listeners for the security tests, retention for fault tests). */
  readonly extraProperties?: Readonly<Record<string, string | number>>
  /** Where the broker's jars are; default: what `scripts/setup.sh` fetched. */
  readonly libsDir?: string
  /** How long to wait for "Kafka Server started"; startup takes several seconds on 2 cores. */
  readonly startTimeoutMs?: number
  /** Called with each line the broker logs (it logs warnings and its startup line). */
  readonly onLog?: (line: string) => void
  /** Arguments after `format -t <id> -c <config>`, e.g. `--add-scram` for SCRAM users. */
  readonly formatArguments?: readonly string[]
  /** Fixed ports instead of free ones; used to restart a broker where clients expect it. */
  readonly port?: number
  readonly controllerPort?: number
  /** Reuse a data directory (a restart keeps the topics); default: a fresh temporary one. */
  readonly dataDir?: string
  /** Log levels of the broker's loggers on top of the quiet defaults, e.g. `{ 'org.apache.kafka.common.network.Selector': 'INFO' }`. */
  readonly logLevels?: Readonly<Record<string, string>>
  /** This node's part in a multi-node cluster (see kafka-cluster.ts); default: a cluster of its own, broker and controller in one JVM. */
  readonly clusterNode?: KafkaClusterNode
}

/** One node of a multi-node KRaft cluster: a broker only, or a controller only. */
export interface KafkaClusterNode {
  /** Every node is formatted with the same id, or the brokers cannot join the controllers. */
  readonly clusterId: string
  readonly nodeId: number
  readonly role: 'broker' | 'controller'
  /** `controller.quorum.voters`, e.g. `1@127.0.0.1:9093`: the same on every node. */
  readonly controllerQuorumVoters: string
}

export interface KafkaBroker {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener (a controller-only node has none: empty). */
  readonly bootstrapServers: string
  readonly port: number
  readonly controllerPort: number
  readonly dataDir: string
  /** Stops the JVM (SIGTERM, then SIGKILL after 10 s) and, unless `keepData`, deletes its data. */
  stop(options?: { keepData?: boolean }): Promise<void>
}

export class KafkaBrokerError extends LambdaKafkaConsumerError {}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      )
    })
  })
}

const LOG4J2 = `status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{HH:mm:ss}] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`

function log4j2(levels: Readonly<Record<string, string>>): string {
  const extra = Object.entries(levels).map(
    ([name, level], index) => `logger.extra${index}.name = ${name}\nlogger.extra${index}.level = ${level}\n`,
  )
  return LOG4J2 + extra.join('')
}

/**
 * Runs the JVM given as arguments and kills it when stdin closes: the parent's end of the pipe
 * closes when the parent exits, however it exits.
 */
const GUARD = `exec 3<&0
"$@" 3<&- & jvm=$!
trap 'kill -TERM $jvm 2>/dev/null' TERM INT
( while read -r _ <&3; do :; done; kill -TERM $jvm 2>/dev/null; sleep 10; kill -KILL $jvm 2>/dev/null ) &
watcher=$!
exec 3<&-
code=0
while kill -0 $jvm 2>/dev/null; do wait $jvm; code=$?; done
kill $watcher 2>/dev/null
exit $code`

export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const libs = options.libsDir ?? defaultLibs
  if (!existsSync(join(libs, '.complete')) && options.libsDir === undefined) {
    throw new KafkaBrokerError(
      `The Kafka broker's jars are not in ${libs}. Run \`npm run setup\` (needs Java 17+ and Maven) and try again.`,
    )
  }
  const [port, controllerPort] = await Promise.all([
    options.port ?? freePort(),
    options.controllerPort ?? freePort(),
  ])
  const home = await mkdtemp(join(tmpdir(), 'lkc-kafka-'))
  const dataDir = options.dataDir ?? join(home, 'data')
  const node = options.clusterNode
  const properties: Record<string, string | number> = {
    ...roleProperties(node, port, controllerPort),
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': 'false',
    ...options.extraProperties,
  }
  const config = join(home, 'server.properties')
  await writeFile(
    config,
    `${Object.entries(properties)
      .map(([key, value]) => `${key}=${value}`)
      .join('\n')}\n`,
  )
  await writeFile(join(home, 'log4j2.properties'), log4j2(options.logLevels ?? {}))

  const classpath = `${libs}/*`
  const jvmFlags = [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Xshare:auto',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=file:${join(home, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${home}`,
  ]
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const clusterId = node?.clusterId ?? newClusterId()
    await promisify(execFile)(
      'java',
      [
        ...jvmFlags,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        config,
        ...(options.formatArguments ?? []),
      ],
      { timeout: 60_000 },
    ).catch((error: unknown) => {
      throw new KafkaBrokerError(`Formatting the Kafka storage failed: ${String(error)}`, { cause: error })
    })
  }

  const child = spawn(
    'bash',
    ['-c', GUARD, 'kafka-guard', 'java', ...jvmFlags, '-cp', classpath, 'kafka.Kafka', config],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  await waitUntilStarted(child, exited, options)

  let stopped: Promise<void> | undefined
  const stop = (stopOptions: { keepData?: boolean } = {}) => {
    stopped ??= (async () => {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
      child.stdin?.destroy()
    })()
    return stopped.then(async () => {
      if (!stopOptions.keepData) await rm(home, { recursive: true, force: true })
    })
  }
  const bootstrapServers = node?.role === 'controller' ? '' : `127.0.0.1:${port}`
  return { bootstrapServers, port, controllerPort, dataDir, stop }
}

/** A cluster id as `StorageTool format -t` takes it: 22 characters of base64url (a UUID's 16 bytes). */
export function newClusterId(): string {
  return (
    'lkc' +
    Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
      .toString('base64url')
      .slice(0, 19)
  )
}

/**
 * Roles, id and listeners. A controller-only node listens on CONTROLLER only (Kafka refuses to
 * start one with any other listener) and advertises nothing to clients; a broker-only node
 * listens on PLAINTEXT only, and finds the controllers through the quorum voters.
 */
export function roleProperties(
  node: KafkaClusterNode | undefined,
  port: number,
  controllerPort: number,
): Record<string, string | number> {
  if (node?.role === 'controller') {
    return {
      'process.roles': 'controller',
      'node.id': node.nodeId,
      'controller.quorum.voters': node.controllerQuorumVoters,
      listeners: `CONTROLLER://127.0.0.1:${controllerPort}`,
    }
  }
  const broker = {
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
  }
  if (node?.role === 'broker') {
    return {
      'process.roles': 'broker',
      'node.id': node.nodeId,
      'controller.quorum.voters': node.controllerQuorumVoters,
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
      ...broker,
    }
  }
  return {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    ...broker,
  }
}

async function waitUntilStarted(
  child: ChildProcess,
  exited: Promise<number | null>,
  options: KafkaBrokerOptions,
) {
  const recent: string[] = []
  let buffered = ''
  const started = new Promise<void>((resolveStarted) => {
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) {
        recent.push(line)
        if (recent.length > 40) recent.shift()
        options.onLog?.(line)
        if (line.includes('Kafka Server started')) resolveStarted()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
  const timeoutMs = options.startTimeoutMs ?? 90_000
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    started.then(() => 'started' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs)
    }),
  ])
  clearTimeout(timer)
  if (outcome === 'started') return
  child.kill('SIGTERM')
  child.stdin?.end()
  throw new KafkaBrokerError(
    `The Kafka broker ${outcome === 'exited' ? 'exited while starting' : `did not start within ${timeoutMs} ms`}. ` +
      `Its last lines:\n${recent.join('\n')}`,
  )
}
