export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** Nearest-rank percentiles (the value below which p % of the samples fall). */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const rank = (p: number): number => (sorted.length === 0 ? NaN : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: rank(50), p99: rank(99), max: rank(100), count: sorted.length };
}

/** Rounds for display and JSON: figures carry no false precision. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
