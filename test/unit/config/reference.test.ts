import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { configReference, withReference } from '../../../src/config/reference.ts'
import { settings } from '../../../src/config/schema.ts'

describe('the configuration reference', () => {
  it('lists every setting with its default', () => {
    const reference = configReference()

    for (const spec of Object.values(settings)) expect(reference).toContain(`| \`${spec.key}\` |`)
    expect(reference).toContain('| `MAX_MESSAGES` | `1000` |')
    expect(reference).toContain('| `KAFKA_TOPIC` | **required** |')
  })

  it('in the README matches the schema (run `npm run docs` after changing a setting)', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')

    expect(withReference(readme)).toBe(readme)
  })
})
