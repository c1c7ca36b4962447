/** Regenerates the generated parts of the docs (the configuration reference in README.md). */
import { readFile, writeFile } from 'node:fs/promises'
import { withReference } from '../src/config/reference.ts'

const path = new URL('../README.md', import.meta.url)
const before = await readFile(path, 'utf8')
const after = withReference(before)
if (after !== before) await writeFile(path, after)
process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md updated\n')
