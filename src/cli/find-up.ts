import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The nearest `name` in `from` or a folder above it: its path, or undefined at the root. */
export function findUp(from: string, name: string): string | undefined {
  for (let directory = from; ; directory = dirname(directory)) {
    const path = join(directory, name)
    if (existsSync(path)) return path
    if (dirname(directory) === directory) return undefined
  }
}
