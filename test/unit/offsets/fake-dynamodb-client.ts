/**
 * A stand-in for the DynamoDB client in unit tests: records each command it is sent (its
 * class name and input, and the abort signal it came with) and answers with `answer`. No
 * network. An answer of `'hang'` never resolves, except by the call's abort signal, as a
 * DynamoDB that accepts connections and never answers.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'

export interface SentCommand {
  readonly name: string
  readonly input: Record<string, unknown>
  readonly signal: AbortSignal | undefined
}

export type Answer = (command: SentCommand) => unknown | 'hang' | Promise<unknown>

export function fakeDynamoDbClient(answer: Answer) {
  const sent: SentCommand[] = []
  const client = {
    async send(
      command: { constructor: { name: string }; input: Record<string, unknown> },
      options?: { abortSignal?: AbortSignal },
    ) {
      const entry = { name: command.constructor.name, input: command.input, signal: options?.abortSignal }
      sent.push(entry)
      const result = await answer(entry)
      if (result !== 'hang') return result
      return new Promise((_resolve, reject) => {
        const signal = options?.abortSignal
        // As the SDK's HTTP handler does: an aborted call rejects with an AbortError.
        const abort = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))
        if (signal?.aborted) abort()
        signal?.addEventListener('abort', abort, { once: true })
      })
    },
  }
  return { client: client as unknown as DynamoDBClient, sent }
}
