// Closed-loop load: N clients, each sends its next request when the previous one answered.

export interface LoadResult {
  items: number;
  seconds: number;
  latenciesMs: number[];
}

export async function closedLoop(opts: {
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  /** One request; resolves with the number of items it carried. */
  call(client: number, i: number): Promise<number>;
}): Promise<LoadResult> {
  const warmEnd = performance.now() + opts.warmupSeconds * 1000;
  const end = warmEnd + opts.seconds * 1000;
  const latenciesMs: number[] = [];
  let items = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, client) => {
      for (let i = 0; ; i++) {
        const t0 = performance.now();
        if (t0 >= end) return;
        const n = await opts.call(client, i);
        const t1 = performance.now();
        if (t0 >= warmEnd && t1 <= end) {
          latenciesMs.push(t1 - t0);
          items += n;
        }
      }
    }),
  );
  return { items, seconds: opts.seconds, latenciesMs };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}
