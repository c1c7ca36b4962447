/** Summary statistics for repeated measurements: the benchmark reports medians with min and max. */

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length }
}

export function median(values: readonly number[]): number {
  return spreadOf(values).median
}

/** A figure for tables: 3 significant digits, thousands separated ("342,000", "7.41", "0.512"). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  const magnitude = Math.abs(value)
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
  const rounded = magnitude >= 1000 ? Number(value.toPrecision(3)) : value
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}
