// Compact numbers for axes, labels and the status bar's rate: 0.25, 12, 3.4k, 1.2M. The Metrics
// panel and the status bar format a rate with this one function, so they read the same. Pure.

/** Compact numbers for axes and labels: 0.25, 12, 3.4k, 1.2M. */
export function formatNumber(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const s =
    a >= 1e9 ? `${(v / 1e9).toFixed(1)}G` : a >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : a >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : a >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(2);
  return `${s}${unit}`;
}
