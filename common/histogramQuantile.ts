// Quantiles from Prometheus histogram buckets, the way PromQL's histogram_quantile() computes them:
// find the bucket holding the rank, interpolate linearly inside it.
import { select, type Scrape } from './promText.js';

/** Cumulative buckets: `le` upper bounds ascending (the last is +Inf), `count` observations ≤ le. */
export interface Bucket {
  le: number;
  count: number;
}

export function histogramQuantile(q: number, buckets: Bucket[]): number {
  if (buckets.length === 0 || q < 0 || q > 1) return NaN;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]!.count;
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      // In the +Inf bucket there is no upper bound: answer the highest finite one (as PromQL does).
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** The cumulative buckets of histogram `name` for series matching `labels`, summed over the rest. */
export function bucketsOf(scrape: Scrape, name: string, labels: Record<string, string>): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of select(scrape, `${name}_bucket`, labels)) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Observations between two scrapes (a counter reset, i.e. a restarted agent, yields `now`). */
export function bucketDelta(now: Bucket[], before: Bucket[]): Bucket[] {
  const prev = new Map(before.map((b) => [b.le, b.count]));
  const delta = now.map((b) => ({ le: b.le, count: b.count - (prev.get(b.le) ?? 0) }));
  return delta.some((b) => b.count < 0) ? now : delta;
}

/** Per-bucket (not cumulative) counts, for a distribution chart. */
export function bucketCounts(buckets: Bucket[]): Bucket[] {
  return buckets.map((b, i) => ({ le: b.le, count: b.count - (i > 0 ? buckets[i - 1]!.count : 0) }));
}
