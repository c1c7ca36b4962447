/**
 * A real SQS API on loopback for tests: moto's server (PyPI `moto[server]`, installed by
 * `scripts/setup.sh` into `.cache/venv`), in memory, on a free port. Not a mock: the AWS SDK's
 * SQS client talks to it over HTTP exactly as it talks to AWS.
 *
 * Like the Kafka broker, it runs under a small shell guard that stops it when this process's
 * pipe to the guard closes, so it never outlives the tests, even when they are killed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { freePort } from '../../src/local/kafka-broker.ts'

const projectRoot = resolve(import.meta.dirname, '../..')
const motoServer = join(projectRoot, '.cache/venv/bin/moto_server')

const GUARD = `exec 3<&0
"$@" 3<&- & child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
( while read -r _ <&3; do :; done; kill -TERM $child 2>/dev/null ) &
watcher=$!
exec 3<&-
wait $child; code=$?
kill $watcher 2>/dev/null
exit $code`

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  stop(): Promise<void>
}

export async function startMotoServer(): Promise<MotoServer> {
  if (!existsSync(motoServer)) {
    throw new Error(
      `moto_server is not in ${motoServer}: run \`npm run setup\` (it installs the Python tools).`,
    )
  }
  const port = await freePort()
  const child: ChildProcess = spawn(
    'bash',
    ['-c', GUARD, 'moto-guard', motoServer, '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000)
  })
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  const endpoint = `http://127.0.0.1:${port}`
  const startedAt = Date.now()
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() - startedAt > 30_000) {
      child.kill('SIGTERM')
      throw new Error(`moto_server did not start on ${endpoint}. Its last output:\n${stderr}`)
    }
    await new Promise((wait) => setTimeout(wait, 100))
  }
  return {
    endpoint,
    async stop() {
      child.kill('SIGTERM')
      await exited
      child.stdin?.destroy()
    },
  }
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
}

/** A new queue with a unique name; returns its URL. */
export async function createQueue(
  endpoint: string,
  name: string,
  maximumMessageSize?: number,
): Promise<string> {
  const client = sqsClient(endpoint)
  try {
    const result = await client.send(
      new CreateQueueCommand({
        QueueName: name,
        ...(maximumMessageSize !== undefined && {
          Attributes: { MaximumMessageSize: String(maximumMessageSize) },
        }),
      }),
    )
    return result.QueueUrl!
  } finally {
    client.destroy()
  }
}

/** Every message in the queue, taken off it: their bodies parsed as JSON, with their attributes. */
export async function drainQueue(
  endpoint: string,
  queueUrl: string,
): Promise<Array<{ body: unknown; attributes: Record<string, string> }>> {
  const client = sqsClient(endpoint)
  const messages: Array<{ body: unknown; attributes: Record<string, string> }> = []
  try {
    for (;;) {
      const result = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 300,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
        }),
      )
      const batch = result.Messages ?? []
      if (batch.length === 0) return messages
      for (const message of batch) {
        messages.push({
          body: JSON.parse(message.Body ?? 'null'),
          attributes: Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              value.StringValue ?? '',
            ]),
          ),
        })
      }
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      )
    }
  } finally {
    client.destroy()
  }
}
