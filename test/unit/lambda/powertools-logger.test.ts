import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPowertoolsLogger } from '../../../src/lambda/powertools-logger.ts'

/** The JSON lines Powertools writes (INFO and DEBUG to stdout, WARN and ERROR to stderr) while `act` runs. */
function linesWrittenBy(act: () => void): Array<Record<string, unknown>> {
  const written: string[] = []
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk))
    return true
  }
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ]
  try {
    act()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('createPowertoolsLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('at WARN says INFO and DEBUG are off, and a filtered call never reaches Powertools', () => {
    const { logger, powertools, isEnabled } = createPowertoolsLogger('WARN')
    const info = vi.spyOn(powertools, 'info')
    const warn = vi.spyOn(powertools, 'warn')

    const lines = linesWrittenBy(() => {
      logger.info('Processed message', { partition: 1 })
      logger.debug('Message content')
      logger.warn('Something to look at', { partition: 2 })
    })

    expect([isEnabled('debug'), isEnabled('info'), isEnabled('warn'), isEnabled('error')]).toEqual([
      false,
      false,
      true,
      true,
    ])
    expect(info).not.toHaveBeenCalled()
    expect(warn).toHaveBeenCalledTimes(1)
    expect(lines.map((line) => [line.level, line.message, line.partition])).toEqual([
      ['WARN', 'Something to look at', 2],
    ])
  })

  it('at DEBUG writes every level, attributes included', () => {
    const { logger, isEnabled } = createPowertoolsLogger('DEBUG')

    const lines = linesWrittenBy(() => {
      logger.debug('Message content', { offset: 7 })
      logger.info('Processed message')
    })

    expect(isEnabled('debug')).toBe(true)
    expect(lines.map((line) => [line.level, line.message, line.offset])).toEqual([
      ['DEBUG', 'Message content', 7],
      ['INFO', 'Processed message', undefined],
    ])
  })
})
