/**
 * A progress bar for `lkc run` while it drains a backlog: one line on a terminal, redrawn in
 * place at most ten times a second, erased before the summary. Never drawn when the output is
 * not a terminal (piped, CI) or in Lambda: callers ask `progressBarWanted` first.
 */
import type { CycleProgress } from '../cycle/run-cycle.ts'

export interface ProgressBar {
  update(progress: CycleProgress): void
  /** Erases the bar (the summary line takes its place). */
  clear(): void
}

export function progressBarWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.AWS_LAMBDA_FUNCTION_NAME === undefined && env.CI === undefined
}

/** Below this many messages in the run, a bar would only flash: it is not drawn. */
const WORTH_A_BAR = 2000

export function createProgressBar(
  write: (text: string) => void,
  width = 30,
  now = () => Date.now(),
): ProgressBar {
  let drawnAt = 0
  let drawn = false
  let startedAt: number | undefined
  return {
    update({ done, remaining }) {
      const total = done + remaining
      if (total < WORTH_A_BAR) return
      const time = now()
      startedAt ??= time
      if (drawn && time - drawnAt < 100 && remaining > 0) return
      drawnAt = time
      drawn = true
      const filled = Math.round((done / total) * width)
      const rate = time > startedAt ? Math.round((done / (time - startedAt)) * 1000) : 0
      write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} messages${rate > 0 ? `, ${rate.toLocaleString('en-US')}/s` : ''}\u001b[K`,
      )
    },
    clear() {
      if (drawn) write('\r\u001b[K')
      drawn = false
    },
  }
}
