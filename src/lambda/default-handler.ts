/**
 * The default function, `lambda-kafka-consumer/default-handler`: logs each message as the seed
 * does (topic, partition, offset and key at INFO, the content at DEBUG). What the construct
 * deploys when it is given neither `entry` nor `code`. Bring your own with `createHandler`,
 * re-exported here so that a bundle of this module can also build other handlers (the bench's).
 */
import { createHandler } from './handler.ts'

export { createHandler }

export const handler = createHandler()
