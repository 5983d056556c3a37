// Scales and ticks for the panel's charts. Pure, so the maths is unit-tested under Node.
import { formatNumber } from '../../../common/formatNumber.js';

// Compact numbers (0.25, 12, 3.4k, 1.2M) live in common/: the status bar formats its rate with them too.
export { formatNumber };

export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** "Nice" round ticks (1, 2, 5 × 10^k steps) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Grid lines on a chart's y axis (about); the domain and the drawn ticks use the same count. */
export const Y_TICKS = 3;

/** The y domain for series values: from 0 (or the minimum, if negative) to a nice maximum. */
export function yDomain(values: Iterable<number | null>, minMax = 1e-9): [number, number] {
  let lo = 0;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v > hi) hi = v;
    if (v < lo) lo = v;
  }
  // Nothing yet, or only zeros: a plain 0..1 axis (not ticks at 5e-10 and 1e-9).
  if (hi === -Infinity || (hi <= 0 && lo === 0)) return [0, 1];
  hi = Math.max(hi, minMax);
  // Round the top up to the next tick, so the highest line sits under a labelled grid line.
  const ticks = niceTicks(lo, hi, Y_TICKS);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : hi;
  return [lo, Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12))];
}

/** Axis tick labels: integers plainly (1, 20, 1.5k), fractions to their tick's precision. */
export function formatTick(v: number): string {
  if (Math.abs(v) >= 1000) return formatNumber(v);
  return String(Number(v.toPrecision(3)));
}

export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b >= 100 || i === 0 ? b.toFixed(0) : b.toFixed(1)} ${units[i]}`;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Canvas backing size for a CSS size on a screen with this device pixel ratio (sharp on high DPI). */
export function backingSize(cssWidth: number, cssHeight: number, dpr: number): { width: number; height: number; scale: number } {
  const scale = Math.max(1, Math.min(4, dpr || 1));
  return { width: Math.round(cssWidth * scale), height: Math.round(cssHeight * scale), scale };
}
