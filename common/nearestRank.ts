// The nearest-rank quantile, shared by the canary's statistics (agent) and the test-traffic
// summary (extension).

/** The q-quantile (0..1) of values already sorted ascending; NaN when there are none. */
export function nearestRank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
