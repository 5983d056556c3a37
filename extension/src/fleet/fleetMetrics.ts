// The Metrics panel's point from PromQL over the whole fleet, in place of the one replica that
// answered a scrape through the load balancer: the same series keys (common/panelProtocol.ts
// SERIES), so the webview draws them unchanged. Counters become rates over a window of four scrape
// intervals (Grafana's $__rate_interval habit: at least two samples in any window); they are
// summed over replicas by model (traffic, errors) or by model and version (queue depth); latency
// quantiles come from the summed buckets, means from summed sums over summed counts; device busy
// is the replicas' average (each replica has its own device). With `replica` set, every selector
// is narrowed to that instance: one replica's charts, on demand. GPU series only for one replica:
// GPU indexes are per machine, and summed they would mean nothing (fleetGpus.ts). No VS Code imports.
import type { AgentStatus, GpuStatus } from '../../../common/api.js';
import { bucketCounts, histogramQuantile, type Bucket } from '../../../common/histogramQuantile.js';
import { SERIES } from '../../../common/panelProtocol.js';
import type { SeriesPoint } from '../../../common/timeSeries.js';
import { upTo } from '../live/panelMetrics.js';
import { fleetGpuQueries, fleetGpuStatus, replicaGpus, type GpuQueryName } from './fleetGpus.js';
import { type PrometheusClient, type Sample, promString } from './prometheusQuery.js';

export interface FleetPoint {
  point: SeriesPoint;
  batchSizes: Record<string, Bucket[]>;
  /** The rate window used, in seconds. */
  windowS: number;
  /** The GPU section's state: one replica's GPUs, or why the fleet has none to show. */
  gpus: GpuStatus;
}

/** The rate window for a scrape interval: four of them, at least 2 s. */
export function rateWindowS(scrapeIntervalS: number): number {
  return Math.max(2, 4 * scrapeIntervalS);
}

/** The PromQL of each of the point's queries (exported for tests and for people reading the panel's numbers). */
export type FleetQueryName = 'requests' | 'errors' | 'latencyBuckets' | 'queue' | 'compute' | 'batch' | 'depth' | 'busy' | 'cacheHits' | 'batchBuckets';

export function fleetQueries(windowS: number, instance?: string): Record<FleetQueryName, string> {
  const sel = (extra = '') => `{${[instance !== undefined ? `instance=${promString(instance)}` : '', extra].filter(Boolean).join(',')}}`;
  const w = `[${Math.round(windowS * 1000)}ms]`;
  const mean = (name: string) => `sum by (model, version) (rate(${name}_sum${sel()}${w})) / sum by (model, version) (rate(${name}_count${sel()}${w}))`;
  return {
    requests: `sum by (model) (rate(inferscope_inference_requests_total${sel()}${w}))`,
    errors: `sum by (model) (rate(inferscope_inference_requests_total${sel('outcome!="success"')}${w}))`,
    latencyBuckets: `sum by (model, version, le) (rate(inferscope_inference_request_duration_seconds_bucket${sel()}${w}))`,
    queue: mean('inferscope_queue_duration_seconds'),
    compute: mean('inferscope_compute_duration_seconds'),
    batch: mean('inferscope_batch_size'),
    depth: `sum by (model, version) (inferscope_pending_requests${sel()})`,
    busy: `avg by (model, version) (sum by (model, version, job, instance) (rate(inferscope_device_busy_seconds_total${sel()}${w})))`,
    cacheHits: `sum by (model) (rate(inferscope_feature_cache_lookups_total${sel('result!="miss"')}${w})) / sum by (model) (rate(inferscope_feature_cache_lookups_total${sel()}${w}))`,
    batchBuckets: `sum by (model, version, le) (inferscope_batch_size_bucket${sel()})`,
  };
}

/** The fleet's request rate (the status bar's): the charts' `requests` query, summed over models. */
export async function fleetRequestRate(prom: PrometheusClient, scrapeIntervalS: number, signal?: AbortSignal): Promise<number> {
  const samples = await prom.query(fleetQueries(rateWindowS(scrapeIntervalS)).requests, undefined, signal);
  return samples.reduce((sum, s) => sum + (Number.isFinite(s.value) ? s.value : 0), 0);
}

export class FleetMetrics {
  constructor(
    private readonly prom: PrometheusClient,
    /** The fleet's scrape interval in seconds (from its targets). */
    private readonly scrapeIntervalS: () => number,
  ) {}

  /** The instance whose charts to show alone; undefined: the whole fleet. */
  replica: string | undefined;

  /** One point at `t` (epoch ms; Prometheus evaluates every query at that time). */
  async point(status: AgentStatus | undefined, t: number, signal?: AbortSignal): Promise<FleetPoint> {
    const windowS = rateWindowS(this.scrapeIntervalS());
    const q = fleetQueries(windowS, this.replica);
    const names = Object.keys(q) as FleetQueryName[];
    const replica = this.replica;
    const gq = replica !== undefined ? fleetGpuQueries(replica) : undefined;
    const gpuNames = gq ? (Object.keys(gq) as GpuQueryName[]) : [];
    const [results, gpuResults] = await Promise.all([Promise.all(names.map((n) => this.prom.query(q[n], t, signal))), Promise.all(gpuNames.map((n) => this.prom.query(gq![n], t, signal)))]);
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]!])) as Record<FleetQueryName, Sample[]>;
    const values: Record<string, number> = {};
    const put = (key: string, v: number, scale = 1) => {
      if (Number.isFinite(v)) values[key] = v * scale;
    };
    for (const s of r.requests) if (s.metric.model) put(SERIES.requestsPerSecond(s.metric.model), s.value);
    for (const s of r.errors) if (s.metric.model) put(SERIES.errorsPerSecond(s.metric.model), s.value);
    // A model with traffic and no errors has no error series: 0, not a gap.
    for (const s of r.requests) if (s.metric.model && values[SERIES.errorsPerSecond(s.metric.model)] === undefined) values[SERIES.errorsPerSecond(s.metric.model)] = 0;
    for (const [mv, buckets] of byVersion(r.latencyBuckets)) {
      const [model, version] = mv;
      for (const [q2, p] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) put(SERIES.latencyMs(q2, model, version), histogramQuantile(p, buckets), 1000);
    }
    for (const s of r.queue) if (s.metric.model && s.metric.version) put(SERIES.queueMs(s.metric.model, s.metric.version), s.value, 1000);
    for (const s of r.compute) if (s.metric.model && s.metric.version) put(SERIES.computeMs(s.metric.model, s.metric.version), s.value, 1000);
    for (const s of r.batch) if (s.metric.model && s.metric.version) put(SERIES.batchSize(s.metric.model, s.metric.version), s.value);
    for (const s of r.depth) if (s.metric.model && s.metric.version) put(SERIES.queueDepth(s.metric.model, s.metric.version), s.value);
    for (const s of r.busy) if (s.metric.model && s.metric.version) put(SERIES.deviceBusy(s.metric.model, s.metric.version), s.value);
    for (const s of r.cacheHits) if (s.metric.model) put(SERIES.cacheHitRate(s.metric.model), s.value);
    const batchSizes: Record<string, Bucket[]> = {};
    for (const [[model, version], buckets] of byVersion(r.batchBuckets)) {
      const max = status?.models.find((m) => m.name === model)?.versions.find((v) => v.version === version)?.batching.max_batch_size ?? Infinity;
      batchSizes[`${model}/${version}`] = upTo(bucketCounts(buckets), max);
    }
    let gpus = fleetGpuStatus();
    if (replica !== undefined) {
      const g = replicaGpus(replica, Object.fromEntries(gpuNames.map((n, i) => [n, gpuResults[i]!])) as Record<GpuQueryName, Sample[]>, t);
      gpus = g.gpus;
      Object.assign(values, g.values);
    }
    return { point: { t, values }, batchSizes, windowS, gpus };
  }
}

/** Bucket series (with `le`) grouped by model and version, cumulative and sorted. */
function byVersion(samples: Sample[]): [[string, string], Bucket[]][] {
  const groups = new Map<string, { mv: [string, string]; buckets: Bucket[] }>();
  for (const s of samples) {
    const { model, version, le } = s.metric;
    if (!model || !version || le === undefined || !Number.isFinite(s.value)) continue;
    const k = `${model}/${version}`;
    if (!groups.has(k)) groups.set(k, { mv: [model, version], buckets: [] });
    groups.get(k)!.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: s.value });
  }
  return [...groups.values()].map((g) => [g.mv, g.buckets.sort((a, b) => a.le - b.le)]);
}
