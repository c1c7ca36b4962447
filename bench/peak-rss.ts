/**
 * The peak RSS of a process the benchmark did not write (kcat): its kernel high-water mark
 * (VmHWM in /proc/<pid>/status), read every few milliseconds while it runs, the last reading
 * kept. The mark only grows, so what is missed is at most the growth in the last interval
 * before exit; kcat reaches its peak early, when its fetch queues fill.
 */
import { readFileSync } from 'node:fs'

export interface PeakRssWatch {
  /** The last reading, KiB (0 if none could be taken, e.g. not on Linux). */
  stop(): number
}

export function watchPeakRss(pid: number | undefined, intervalMs = 5): PeakRssWatch {
  let peakKb = 0
  const read = () => {
    if (pid === undefined) return
    try {
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (match) peakKb = Math.max(peakKb, Number(match[1]))
    } catch {
      // Gone, or not Linux: keep the last reading.
    }
  }
  read()
  const timer = setInterval(read, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      return peakKb
    },
  }
}
