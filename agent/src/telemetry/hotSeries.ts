// Counters and histograms for the series that every request updates. prom-client hashes the label
// set on every inc()/observe() (its labels() children too), which cost the infer route several
// percent of its throughput; here a label set is looked up once into a handle, an update is an
// addition, and prom-client's registry reads the totals only when /metrics is scraped (a registered
// metric need only answer get(), as its own metrics do).
import type { Registry } from 'prom-client';

interface Value {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

abstract class HotMetric<S> {
  readonly aggregator = 'sum';
  protected readonly entries = new Map<string, { labels: Record<string, string>; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected entry(values: string[], init: () => S): S {
    const key = values.join('\0');
    let e = this.entries.get(key);
    if (!e) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]!]));
      this.entries.set(key, (e = { labels, state: init() }));
    }
    return e.state;
  }

  abstract get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Value[] }>;
}

export interface CounterHandle {
  inc(n?: number): void;
}

export class HotCounter extends HotMetric<{ value: number }> {
  readonly type = 'counter';

  /** The handle of one label set (label values in the order of the label names); the series exists at 0 from now on. */
  series(...labelValues: string[]): CounterHandle {
    const s = this.entry(labelValues, () => ({ value: 0 }));
    return { inc: (n = 1) => void (s.value += n) };
  }

  get() {
    const values: Value[] = [...this.entries.values()].map((e) => ({ labels: e.labels, value: e.state.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

export interface HistogramHandle {
  /** `exemplar`: the id of what was observed (a request id), kept as its bucket's latest exemplar. */
  observe(v: number, exemplar?: string): void;
}

/** An OpenMetrics exemplar: the latest observation of a bucket, and what it was. */
export interface Exemplar {
  id: string;
  value: number;
  /** Epoch seconds. */
  at: number;
}

interface HistogramState {
  /** Per bucket (not cumulative), the last one for +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
  /** Per bucket, the latest observation that came with an id (allocated at the first). */
  exemplars?: (Exemplar | undefined)[];
}

export class HotHistogram extends HotMetric<HistogramState> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], private readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  series(...labelValues: string[]): HistogramHandle {
    const s = this.entry(labelValues, () => ({ counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }));
    const buckets = this.buckets;
    return {
      observe(v: number, exemplar?: string) {
        let i = 0;
        while (i < buckets.length && v > buckets[i]!) i++;
        s.counts[i]!++;
        s.sum += v;
        s.count++;
        if (exemplar !== undefined) (s.exemplars ??= new Array(buckets.length + 1))[i] = { id: exemplar, value: v, at: Date.now() / 1000 };
      },
    };
  }

  /**
   * The latest exemplar of each bucket's cumulative line: the bucket `le` holds every observation
   * at or below it, so its exemplar is the newest of its own and the buckets below. Keyed by the
   * label values (in label-name order) and `le`, joined by NUL.
   */
  exemplars(): Map<string, Exemplar> {
    const out = new Map<string, Exemplar>();
    for (const [key, { state }] of this.entries) {
      if (!state.exemplars) continue;
      let newest: Exemplar | undefined;
      const les = [...this.buckets.map(String), '+Inf'];
      les.forEach((le, i) => {
        const e = state.exemplars![i];
        if (e && (!newest || e.at >= newest.at)) newest = e;
        if (newest) out.set(`${key}\0${le}`, newest);
      });
    }
    return out;
  }

  get() {
    const values: Value[] = [];
    for (const { labels, state } of this.entries.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += state.counts[i]!;
        // le first, as prom-client writes it.
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: state.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: state.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: state.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}
