/**
 * The benchmark's messages: JSON orders padded to an exact size in bytes (ASCII only, so
 * characters and bytes agree), one per line as `kcat -P` reads them.
 */

const ITEMS = ['coffee', 'tea', 'croissant', 'bagel', 'juice', 'muffin'] as const

/** One JSON value of exactly `sizeInBytes` bytes (at least the unpadded order's size). */
export function jsonPayload(index: number, sizeInBytes: number): string {
  const order = `{"orderId":${index},"item":"${ITEMS[index % ITEMS.length]}","quantity":${(index % 5) + 1},"at":"2025-11-26T08:00:00.000Z","pad":"`
  const padding = Math.max(0, sizeInBytes - order.length - 2)
  return `${order}${'x'.repeat(padding)}"}`
}

/** `count` payloads as newline-terminated lines, in chunks of about `chunkBytes`. */
export function* payloadLines(count: number, sizeInBytes: number, chunkBytes = 1 << 20): Generator<string> {
  const perChunk = Math.max(1, Math.floor(chunkBytes / (sizeInBytes + 1)))
  for (let first = 0; first < count; first += perChunk) {
    const lines: string[] = []
    const last = Math.min(count, first + perChunk)
    for (let index = first; index < last; index++) lines.push(jsonPayload(index, sizeInBytes))
    yield `${lines.join('\n')}\n`
  }
}
