import { describe, expect, it } from 'vitest'
import { createProgressBar, progressBarWanted } from '../../../src/cli/progress-bar.ts'

describe('the progress bar of lkc run', () => {
  it('is drawn only on a terminal, never in Lambda or CI', () => {
    expect(progressBarWanted({ isTTY: true }, {})).toBe(true)
    expect(progressBarWanted({ isTTY: false }, {})).toBe(false)
    expect(progressBarWanted({}, {})).toBe(false)
    expect(progressBarWanted({ isTTY: true }, { AWS_LAMBDA_FUNCTION_NAME: 'kafka-consumer-lambda' })).toBe(
      false,
    )
    expect(progressBarWanted({ isTTY: true }, { CI: 'true' })).toBe(false)
  })

  it('redraws one line in place with the count, the total and the rate, then clears it', () => {
    const written: string[] = []
    let now = 0
    const bar = createProgressBar(
      (text) => void written.push(text),
      10,
      () => now,
    )

    bar.update({ done: 0, remaining: 10_000 })
    now = 50
    bar.update({ done: 1_000, remaining: 9_000 }) // within 100 ms of the last draw: skipped
    now = 1_000
    bar.update({ done: 5_000, remaining: 5_000 })
    bar.clear()

    expect(written).toEqual([
      '\r[..........] 0 / 10,000 messages\u001b[K',
      '\r[#####.....] 5,000 / 10,000 messages, 5,000/s\u001b[K',
      '\r\u001b[K',
    ])
  })

  it('is not drawn for a small run, and clearing it then writes nothing', () => {
    const written: string[] = []
    const bar = createProgressBar((text) => void written.push(text))

    bar.update({ done: 10, remaining: 20 })
    bar.clear()

    expect(written).toEqual([])
  })
})
