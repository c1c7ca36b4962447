import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findUp } from '../../../src/cli/find-up.ts'

describe('findUp', () => {
  it('finds the nearest file of that name in the folder or above it, and nothing past the root', () => {
    const root = mkdtempSync(join(tmpdir(), 'lkc-find-up-'))
    const deep = join(root, 'app', 'src', 'handlers')
    mkdirSync(deep, { recursive: true })
    writeFileSync(join(root, 'package.json'), '{}')
    writeFileSync(join(root, 'app', 'package.json'), '{}')

    expect(findUp(deep, 'package.json')).toBe(join(root, 'app', 'package.json'))
    expect(findUp(root, 'package.json')).toBe(join(root, 'package.json'))
    expect(findUp(deep, 'no-such-file-anywhere.lkc')).toBeUndefined()
  })
})
