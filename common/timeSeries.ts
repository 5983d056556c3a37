// A window of time series sharing one time axis, bounded to `capacity` points: the extension keeps
// one (history survives a hidden or reloaded view), the webview mirrors it from ticks.

export interface SeriesPoint {
  /** Epoch ms. */
  t: number;
  /** Series key → value (NaN or absent: no value at this time). */
  values: Record<string, number>;
}

export interface SeriesHistory {
  capacity: number;
  times: number[];
  series: Record<string, (number | null)[]>;
}

export class SeriesWindow {
  readonly times: number[] = [];
  readonly series = new Map<string, (number | null)[]>();

  constructor(readonly capacity: number) {}

  static from(h: SeriesHistory): SeriesWindow {
    const w = new SeriesWindow(h.capacity);
    w.times.push(...h.times.slice(-h.capacity));
    for (const [k, v] of Object.entries(h.series)) w.series.set(k, v.slice(-h.capacity));
    return w;
  }

  push(p: SeriesPoint): void {
    this.times.push(p.t);
    const n = this.times.length;
    for (const [key, value] of Object.entries(p.values)) {
      if (!this.series.has(key)) this.series.set(key, new Array<number | null>(n - 1).fill(null));
    }
    for (const [key, values] of this.series) {
      const v = p.values[key];
      values.push(v === undefined || Number.isNaN(v) ? null : v);
    }
    if (n > this.capacity) {
      this.times.shift();
      for (const [key, values] of this.series) {
        values.shift();
        // A series with no value left in the window is dropped (a model that went away).
        if (values.every((v) => v === null)) this.series.delete(key);
      }
    }
  }

  get(key: string): (number | null)[] {
    return this.series.get(key) ?? new Array<number | null>(this.times.length).fill(null);
  }

  /** The last non-null value of a series. */
  last(key: string): number | null {
    const v = this.series.get(key);
    if (!v) return null;
    for (let i = v.length - 1; i >= 0; i--) if (v[i] !== null) return v[i]!;
    return null;
  }

  toJSON(): SeriesHistory {
    return { capacity: this.capacity, times: [...this.times], series: Object.fromEntries([...this.series].map(([k, v]) => [k, [...v]])) };
  }
}
