// Turns two consecutive scrapes of /metrics (and status snapshots) into one point of the panel's
// time series: rates, latency quantiles, queue/compute time, batch size, cache hit rate, GPU use.
// Pure: the history object feeds it.
import type { AgentStatus } from '../../../common/api.js';
import { bucketCounts, bucketDelta, bucketsOf, histogramQuantile, type Bucket } from '../../../common/histogramQuantile.js';
import { SERIES } from '../../../common/panelProtocol.js';
import { select, sum, type Scrape } from '../../../common/promText.js';
import type { SeriesPoint } from '../../../common/timeSeries.js';
import type { RequestRates } from './requestRate.js';

export interface Observation {
  /** Epoch ms. */
  t: number;
  status: AgentStatus;
  scrape: Scrape;
}

/** A counter's increase; a reset (the agent restarted) counts from zero. */
function increase(now: number, before: number): number {
  return now >= before ? now - before : now;
}

/**
 * `rates`: requests/s per model as the status bar computes them (LiveData's RequestRate), so the
 * Traffic chart and the status bar show one number; errors/s come from the scrapes.
 */
export function panelPoint(cur: Observation, prev: Observation | undefined, rates?: RequestRates): SeriesPoint {
  const values: Record<string, number> = {};
  const samePid = prev !== undefined && prev.status.agent.pid === cur.status.agent.pid;
  // Observation times, not the agent's uptime (whole seconds): the counters come from the scrapes.
  const dt = samePid ? (cur.t - prev.t) / 1000 : 0;
  for (const m of cur.status.models) {
    const rps = rates?.models[m.name];
    if (rps !== undefined) values[SERIES.requestsPerSecond(m.name)] = rps;
    if (samePid && dt > 0) {
      const errors = (s: Scrape) => sum(select(s, 'inferscope_inference_requests_total', { model: m.name }).filter((x) => x.labels.outcome !== 'success'));
      values[SERIES.errorsPerSecond(m.name)] = increase(errors(cur.scrape), errors(prev.scrape)) / dt;
    }
    for (const v of m.versions) {
      const labels = { model: m.name, version: v.version };
      values[SERIES.queueDepth(m.name, v.version)] = v.batching.queue_depth;
      if (!samePid) continue;
      const lat = bucketDelta(bucketsOf(cur.scrape, 'inferscope_inference_request_duration_seconds', labels), bucketsOf(prev.scrape, 'inferscope_inference_request_duration_seconds', labels));
      for (const q of ['p50', 'p95', 'p99'] as const) {
        const s = histogramQuantile(q === 'p50' ? 0.5 : q === 'p95' ? 0.95 : 0.99, lat);
        if (!Number.isNaN(s)) values[SERIES.latencyMs(q, m.name, v.version)] = s * 1000;
      }
      const mean = (name: string) => {
        const n = increase(sum(select(cur.scrape, `${name}_count`, labels)), sum(select(prev.scrape, `${name}_count`, labels)));
        const total = increase(sum(select(cur.scrape, `${name}_sum`, labels)), sum(select(prev.scrape, `${name}_sum`, labels)));
        return n > 0 ? total / n : NaN;
      };
      const queue = mean('inferscope_queue_duration_seconds');
      const compute = mean('inferscope_compute_duration_seconds');
      const batch = mean('inferscope_batch_size');
      if (!Number.isNaN(queue)) values[SERIES.queueMs(m.name, v.version)] = queue * 1000;
      if (!Number.isNaN(compute)) values[SERIES.computeMs(m.name, v.version)] = compute * 1000;
      if (!Number.isNaN(batch)) values[SERIES.batchSize(m.name, v.version)] = batch;
      const busy = (s: Scrape) => sum(select(s, 'inferscope_device_busy_seconds_total', labels));
      if (dt > 0) values[SERIES.deviceBusy(m.name, v.version)] = increase(busy(cur.scrape), busy(prev.scrape)) / dt;
    }
  }
  for (const [model, c] of Object.entries(cur.status.caches)) {
    const before = samePid ? prev.status.caches[model] : undefined;
    if (!before) continue;
    const hits = increase(c.hits, before.hits);
    const lookups = hits + increase(c.misses, before.misses);
    if (lookups > 0) values[SERIES.cacheHitRate(model)] = hits / lookups;
  }
  for (const g of cur.status.gpus.devices) {
    if (g.utilization !== undefined) values[SERIES.gpuUtilization(g.index)] = g.utilization;
    if (g.memory_used_bytes !== undefined) values[SERIES.gpuMemoryBytes(g.index)] = g.memory_used_bytes;
  }
  return { t: cur.t, values };
}

/** Batch sizes since the agent started, per `<model>/<version>`, as per-bucket counts. */
export function batchSizeDistribution(status: AgentStatus, scrape: Scrape): Record<string, Bucket[]> {
  const out: Record<string, Bucket[]> = {};
  for (const m of status.models) {
    for (const v of m.versions) {
      const buckets = bucketsOf(scrape, 'inferscope_batch_size', { model: m.name, version: v.version });
      if (buckets.length > 0) out[`${m.name}/${v.version}`] = upTo(bucketCounts(buckets), v.batching.max_batch_size);
    }
  }
  return out;
}

/**
 * The buckets a version's batches can fall in: up to the first bound at or above its
 * max_batch_size (0: every batch is one request), without +Inf, which JSON (the webview's
 * messages) cannot carry and which is empty below the largest bound.
 */
export function upTo(buckets: Bucket[], maxBatchSize: number): Bucket[] {
  const cap = Math.max(1, maxBatchSize);
  const last = buckets.findIndex((b) => b.le >= cap);
  return buckets.slice(0, last < 0 ? buckets.length : last + 1).filter((b) => Number.isFinite(b.le));
}
