// The maths behind the Metrics panel: Prometheus text parsing, histogram quantiles (PromQL's
// histogram_quantile), the bounded time-series window, and one panel point from two scrapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStatus } from '../../common/api.js';
import { bucketCounts, bucketDelta, bucketsOf, histogramQuantile } from '../../common/histogramQuantile.js';
import { SERIES } from '../../common/panelProtocol.js';
import { parsePromText, select, sum } from '../../common/promText.js';
import { SeriesWindow } from '../../common/timeSeries.js';
import { panelPoint } from '../../extension/src/live/panelMetrics.js';

test('parsePromText reads labels (escapes included), +Inf, NaN and skips comments', () => {
  const s = parsePromText(
    [
      '# HELP x_total help',
      '# TYPE x_total counter',
      'x_total{model="digits",version="1",outcome="success"} 12',
      'x_total{model="digits",version="1",outcome="bad \\"input\\""} 3',
      'h_bucket{le="+Inf"} 7',
      'g NaN',
      'broken{le="1" 4',
      '',
    ].join('\n'),
  );
  assert.equal(sum(select(s, 'x_total', { model: 'digits' })), 15);
  assert.equal(select(s, 'x_total', { outcome: 'bad "input"' })[0]?.value, 3);
  assert.equal(select(s, 'h_bucket')[0]?.labels.le, '+Inf');
  assert.ok(Number.isNaN(select(s, 'g')[0]!.value));
  assert.equal(s.has('broken'), false);
});

test('histogramQuantile interpolates inside the bucket that holds the rank, as PromQL does', () => {
  // 10 observations ≤ 0.1, 10 more in (0.1, 0.2], none above.
  const b = [
    { le: 0.1, count: 10 },
    { le: 0.2, count: 20 },
    { le: Infinity, count: 20 },
  ];
  assert.equal(histogramQuantile(0.5, b), 0.1);
  assert.ok(Math.abs(histogramQuantile(0.75, b) - 0.15) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(0.25, b) - 0.05) < 1e-12); // the first bucket starts at 0
  // A rank in the +Inf bucket answers the highest finite bound.
  assert.equal(histogramQuantile(0.99, [{ le: 0.1, count: 1 }, { le: Infinity, count: 10 }]), 0.1);
  assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])));
  assert.ok(Number.isNaN(histogramQuantile(1.5, b)));
});

test('bucketDelta gives the observations between scrapes; a counter reset restarts from the new values', () => {
  const before = [{ le: 1, count: 5 }, { le: Infinity, count: 6 }];
  const now = [{ le: 1, count: 8 }, { le: Infinity, count: 10 }];
  assert.deepEqual(bucketDelta(now, before), [{ le: 1, count: 3 }, { le: Infinity, count: 4 }]);
  const restarted = [{ le: 1, count: 1 }, { le: Infinity, count: 1 }];
  assert.deepEqual(bucketDelta(restarted, before), restarted);
  assert.deepEqual(bucketCounts(now), [{ le: 1, count: 8 }, { le: Infinity, count: 2 }]);
});

test('SeriesWindow stays bounded, aligns late series with nulls, drops series that left the window', () => {
  const w = new SeriesWindow(3);
  w.push({ t: 1, values: { a: 1 } });
  w.push({ t: 2, values: { a: 2, b: 20 } });
  assert.deepEqual(w.get('b'), [null, 20]);
  w.push({ t: 3, values: { b: 30 } });
  w.push({ t: 4, values: { b: 40 } });
  assert.deepEqual(w.times, [2, 3, 4]);
  assert.deepEqual(w.get('a'), [2, null, null]);
  assert.equal(w.last('a'), 2);
  w.push({ t: 5, values: { b: NaN } });
  assert.equal(w.series.has('a'), false, 'a series with no value left is dropped');
  assert.deepEqual(w.get('b'), [30, 40, null]);
  const copy = SeriesWindow.from(w.toJSON());
  assert.deepEqual(copy.toJSON(), w.toJSON());
  for (let i = 0; i < 10_000; i++) w.push({ t: 6 + i, values: { b: i, [`c${i % 5}`]: i } });
  assert.equal(w.times.length, 3);
  assert.ok(w.series.size <= 6);
});

function status(pid: number, uptime: number, hits: number, misses: number): AgentStatus {
  const breaker = { state: 'closed', forced: false, consecutive_failures: 0, window: { calls: 0, failures: 0, slow: 0, failure_rate: 0, slow_rate: 0 }, trips: 0, opened_at: null, next_trial_at: null, last_reason: null, totals: { successes: 0, failures: 0, slow: 0, rejected: 0 } } as const;
  return {
    agent: { name: 'inferscope', version: '0.1.0', pid, uptime_s: uptime, address: '', ready: true, loaded: true, draining: false, model_repository: '' },
    models: [{ name: 'm', default_version: '1', versions: [{ version: '1', state: 'ready', instances: 1, is_default: true, batching: { max_batch_size: 8, queue_depth: 3, in_flight_batches: 0, recent_batch_sizes: [] }, breaker }] }],
    canaries: [],
    gpus: { detected: true, message: '1 GPU', devices: [{ index: 0, uuid: 'u', name: 'G', utilization: 0.5, memory_used_bytes: 100, memory_total_bytes: 200 }], sampled_at: 0, errors: 0, last_error: null },
    caches: { m: { entries: 1, bytes: 1, max_entries: 1, max_bytes: 1, hits, misses, stale_hits: 0, negative_hits: 0, hit_rate: 0, evictions: { capacity: 0, expired: 0 }, source: { name: 'f', kind: 'file', healthy: true, last_error: null, fetches: 0, errors: 0 } } },
  };
}

function metrics(ok: number, bad: number, buckets: [number, number][], queue: [number, number], compute: [number, number], rows: number, execs: number): string {
  const l = 'model="m",version="1"';
  return [
    `inferscope_inference_requests_total{${l},outcome="success"} ${ok}`,
    `inferscope_inference_requests_total{${l},outcome="invalid_input"} ${bad}`,
    ...buckets.map(([le, c]) => `inferscope_inference_request_duration_seconds_bucket{le="${le === Infinity ? '+Inf' : le}",${l}} ${c}`),
    `inferscope_queue_duration_seconds_sum{${l}} ${queue[0]}`,
    `inferscope_queue_duration_seconds_count{${l}} ${queue[1]}`,
    `inferscope_compute_duration_seconds_sum{${l}} ${compute[0]}`,
    `inferscope_compute_duration_seconds_count{${l}} ${compute[1]}`,
    `inferscope_batch_size_sum{${l}} ${rows}`,
    `inferscope_batch_size_count{${l}} ${execs}`,
    `inferscope_device_busy_seconds_total{${l},device="webgpu"} ${compute[0] / 2}`,
  ].join('\n');
}

test('panelPoint turns two scrapes into rates, latency quantiles, queue/compute means and batch size', () => {
  const prev = { t: 1000, status: status(7, 10, 10, 10), scrape: parsePromText(metrics(100, 5, [[0.01, 50], [0.1, 100], [Infinity, 100]], [1, 100], [2, 50], 100, 50)) };
  const cur = { t: 3000, status: status(7, 12, 40, 20), scrape: parsePromText(metrics(300, 9, [[0.01, 150], [0.1, 300], [Infinity, 300]], [3, 300], [4, 100], 300, 100)) };
  // Requests/s are the status bar's (LiveData's RequestRate): one computation, passed in.
  assert.equal(panelPoint(cur, prev).values[SERIES.requestsPerSecond('m')], undefined);
  const p = panelPoint(cur, prev, { total: 12.5, models: { m: 12.5 } }).values;
  assert.equal(p[SERIES.requestsPerSecond('m')], 12.5);
  assert.equal(p[SERIES.errorsPerSecond('m')], 4 / 2);
  assert.ok(Math.abs(p[SERIES.latencyMs('p50', 'm', '1')]! - 10) < 1e-9); // 100 of 200 new observations ≤ 10 ms
  assert.ok(Math.abs(p[SERIES.latencyMs('p99', 'm', '1')]! - (10 + 90 * (98 / 100))) < 1e-9);
  assert.equal(p[SERIES.queueMs('m', '1')], (2 / 200) * 1000);
  assert.equal(p[SERIES.computeMs('m', '1')], (2 / 50) * 1000);
  assert.equal(p[SERIES.batchSize('m', '1')], 200 / 50);
  assert.equal(p[SERIES.queueDepth('m', '1')], 3);
  assert.equal(p[SERIES.cacheHitRate('m')], 30 / 40);
  assert.equal(p[SERIES.gpuUtilization(0)], 0.5);
  assert.equal(p[SERIES.deviceBusy('m', '1')], (2 - 1) / 2, 'device busy 1 s over 2 s');
  // A new agent process: no rate across the restart, only what one snapshot says.
  const restarted = panelPoint({ ...cur, status: status(8, 1, 0, 0) }, prev).values;
  assert.equal(restarted[SERIES.requestsPerSecond('m')], undefined);
  assert.equal(restarted[SERIES.queueDepth('m', '1')], 3);
  assert.deepEqual(bucketsOf(cur.scrape, 'inferscope_inference_request_duration_seconds', { model: 'm' }).map((b) => b.count), [150, 300, 300]);
});
