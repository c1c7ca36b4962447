/**
 * Invokes on a fixed schedule, as EventBridge does in AWS, but never two at once: when an
 * invocation is still running at the next tick, that tick is skipped (and said so), as
 * reserved concurrency 1 would throttle it. `stop()` waits for the running invocation.
 */
export interface SchedulerOptions {
  readonly everyMs: number
  readonly invoke: (tick: number) => Promise<void>
  /** Told about a tick skipped because the previous invocation still runs. */
  readonly onSkip?: (tick: number) => void
}

export interface Scheduler {
  /** Resolves when the scheduler is stopped and no invocation runs. */
  readonly done: Promise<void>
  stop(): Promise<void>
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  let tick = 0
  let running: Promise<void> | undefined
  let stopped = false
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })

  const fire = () => {
    if (stopped) return
    const current = ++tick
    if (running) {
      options.onSkip?.(current)
      return
    }
    running = options.invoke(current).finally(() => {
      running = undefined
      if (stopped) resolveDone()
    })
  }
  const timer = setInterval(fire, options.everyMs)
  fire()

  return {
    done,
    async stop() {
      if (!stopped) {
        stopped = true
        clearInterval(timer)
        if (!running) resolveDone()
      }
      await done
    },
  }
}

/** Parses `500ms`, `10s`, `1m`, `2h` (and a bare number of seconds) into milliseconds. */
export function parseInterval(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!match) return undefined
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  const value = Number(match[1]) * unit
  return value >= 100 && value <= 24 * 3_600_000 ? Math.round(value) : undefined
}
