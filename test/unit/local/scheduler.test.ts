import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseInterval, startScheduler } from '../../../src/local/scheduler.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('startScheduler', () => {
  it('invokes at once and then every interval', async () => {
    vi.useFakeTimers()
    const ticks: number[] = []
    const scheduler = startScheduler({ everyMs: 1000, invoke: async (tick) => void ticks.push(tick) })

    await vi.advanceTimersByTimeAsync(3500)
    await scheduler.stop()

    expect(ticks).toEqual([1, 2, 3, 4])
  })

  it('never runs two invocations at once: a tick during a running one is skipped', async () => {
    vi.useFakeTimers()
    let running = 0
    let maxRunning = 0
    const skipped: number[] = []
    const scheduler = startScheduler({
      everyMs: 1000,
      invoke: async () => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await new Promise((resolve) => setTimeout(resolve, 2500))
        running--
      },
      onSkip: (tick) => void skipped.push(tick),
    })

    await vi.advanceTimersByTimeAsync(3100)
    const stopping = scheduler.stop()
    await vi.advanceTimersByTimeAsync(5000)
    await stopping

    expect(maxRunning).toBe(1)
    expect(skipped).toEqual([2, 3])
  })

  it('stop() waits for the running invocation to finish', async () => {
    vi.useFakeTimers()
    let finished = false
    const scheduler = startScheduler({
      everyMs: 60_000,
      invoke: async () => {
        await new Promise((resolve) => setTimeout(resolve, 500))
        finished = true
      },
    })

    const stopping = scheduler.stop()
    await vi.advanceTimersByTimeAsync(600)
    await stopping

    expect(finished).toBe(true)
  })
})

describe('parseInterval', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['30', 30_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseInterval(text)).toBe(ms)
  })

  it.each(['soon', '10 minutes', '-1s', '50ms', '2d'])('rejects %s', (text) => {
    expect(parseInterval(text)).toBeUndefined()
  })
})
