// The pure parts of VS Code's fleet views: replicas from Prometheus's targets and series, the
// Models tree's rows, the PromQL of the Metrics panel, and what the fleet canary's progress and
// last notification say. (The extension-host suite runs them against a real fleet.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Canary } from '../../common/api.js';
import { fleetOutcomeText, fleetProgressText } from '../../extension/src/fleet/fleetCanary.js';
import { fleetQueries, rateWindowS } from '../../extension/src/fleet/fleetMetrics.js';
import { fleetRow } from '../../extension/src/fleet/fleetRows.js';
import { fleetView } from '../../extension/src/fleet/fleetTargets.js';
import { durationSeconds, type Sample, type ScrapeTarget } from '../../extension/src/fleet/prometheusQuery.js';

const target = (job: string, instance: string, health: ScrapeTarget['health'], extra: Partial<ScrapeTarget> = {}): ScrapeTarget => ({
  job,
  instance,
  labels: { job, instance, ...(extra.labels ?? {}) },
  scrapeUrl: `http://${instance}/metrics`,
  health,
  lastError: health === 'down' ? 'connection refused' : '',
  lastScrape: '',
  scrapeIntervalS: 5,
  ...extra,
});
const sample = (metric: Record<string, string>, value: number): Sample => ({ metric, value });

test('replicas are the targets of every job that exports inferscope_build_info, with build and breakers; a down one has no breakers', () => {
  const targets = [
    target('agents', '10.0.0.2:8000', 'up', { labels: { replica: 'b' } }),
    target('agents', '10.0.0.1:8000', 'down', { labels: { replica: 'a' }, scrapeIntervalS: 15 }),
    target('node', '10.0.0.1:9100', 'up'),
  ];
  const build = [sample({ job: 'agents', instance: '10.0.0.2:8000', version: '0.3.0' }, 1)];
  const breakers = [
    sample({ job: 'agents', instance: '10.0.0.2:8000', model: 'digits', version: '2' }, 2),
    sample({ job: 'agents', instance: '10.0.0.2:8000', model: 'digits', version: '1' }, 0),
    sample({ job: 'agents', instance: '10.0.0.2:8000', model: 'digits', version: '10' }, 1),
    sample({ job: 'agents', instance: '10.0.0.1:8000', model: 'digits', version: '1' }, 0), // stale: the replica is down
  ];
  const v = fleetView('http://prom:9090', targets, build, breakers);
  assert.deepEqual(v.replicas.map((r) => [r.name, r.url, r.health, r.build]), [
    ['a', 'http://10.0.0.1:8000', 'down', undefined],
    ['b', 'http://10.0.0.2:8000', 'up', '0.3.0'],
  ]);
  assert.deepEqual(v.replicas[0]!.breakers, []);
  assert.deepEqual(v.replicas[1]!.breakers.map((b) => `${b.version}:${b.state}`), ['1:closed', '2:open', '10:half_open']);
  assert.equal(v.scrapeIntervalS, 15, 'the longest interval of the fleet (the node exporter is not part of it)');

  const row = fleetRow(v.prometheusUrl, v, undefined, '10.0.0.2:8000');
  assert.equal(row.description, '2 replicas, 1 down, 1 with a breaker not closed · charts: b');
  assert.deepEqual(row.replicas.map((r) => r.description), ['down · 10.0.0.1:8000', 'up · 10.0.0.2:8000 · v0.3.0 · digits v2 breaker open, digits v10 breaker half-open']);
  assert.equal(row.replicas[0]!.icon.id, 'debug-disconnect');
  assert.deepEqual(row.replicas[1]!.breakers.map((b) => b.description), ['breaker closed', 'breaker open', 'breaker half-open']);
});

test('a job named inferscope whose replicas are all down is still the fleet; Prometheus unreachable says so', () => {
  const v = fleetView('http://prom:9090', [target('inferscope', '127.0.0.1:8001', 'down'), target('prometheus', '127.0.0.1:9090', 'up')], [], []);
  assert.deepEqual(v.replicas.map((r) => [r.name, r.health, r.lastError]), [['127.0.0.1:8001', 'down', 'connection refused']]);
  const row = fleetRow('http://prom:9090', undefined, 'Prometheus at http://prom:9090: ECONNREFUSED');
  assert.equal(row.description, 'Prometheus unreachable');
  assert.equal(row.tooltip, 'Prometheus at http://prom:9090: ECONNREFUSED');
});

test("the panel's PromQL: rates over four scrape intervals, narrowed to one instance on demand", () => {
  assert.equal(rateWindowS(1), 4);
  assert.equal(rateWindowS(15), 60);
  assert.equal(rateWindowS(0.2), 2);
  const fleet = fleetQueries(4);
  assert.equal(fleet.requests, 'sum by (model) (rate(inferscope_inference_requests_total{}[4000ms]))');
  assert.equal(fleet.errors, 'sum by (model) (rate(inferscope_inference_requests_total{outcome!="success"}[4000ms]))');
  const one = fleetQueries(4, '127.0.0.1:8001');
  for (const [name, q] of Object.entries(one)) assert.match(q, /instance="127\.0\.0\.1:8001"/, name);
  assert.equal(one.errors, 'sum by (model) (rate(inferscope_inference_requests_total{instance="127.0.0.1:8001",outcome!="success"}[4000ms]))');
});

test("Prometheus's durations", () => {
  assert.equal(durationSeconds('15s'), 15);
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('500ms'), 0.5);
  assert.ok(Number.isNaN(durationSeconds('soon')));
});

const canary = (state: Canary['state'], checks: number, weight: number, reason: string | null = null) =>
  ({ id: 'c', model: 'digits', baseline: '1', candidate: '3', state, weight, checks: Array.from({ length: checks }), reason }) as unknown as Canary;
const replica = (name: string) => ({ name, url: `http://${name}:8000` });

test("the fleet canary's progress line and its one last notification", () => {
  assert.equal(fleetProgressText([{ canary: canary('running', 2, 25) }, { canary: canary('running', 3, 25) }, { canary: canary('running', 2, 50) }]), '3 replicas: 2 checks, running on 3/3 at 25%/50%');
  assert.equal(fleetProgressText([{ canary: canary('promoted', 4, 100) }, { canary: canary('promoted', 4, 100) }, { canary: canary('promoted', 5, 100) }]), '3 replicas: 4 checks, promoted on 3/3');
  assert.equal(fleetProgressText([{ canary: canary('rolled_back', 1, 0) }, { canary: canary('running', 1, 10), lost: 'gone' }]), '2 replicas: 1 check, rolled back on 1/2, lost on 1/2');

  const agree = [{ replica: replica('r0'), canary: canary('promoted', 4, 100, 'every metric passed.') }, { replica: replica('r1'), canary: canary('promoted', 4, 100) }];
  assert.equal(fleetOutcomeText({ model: 'digits', candidate: '3' }, agree, []), 'Canary digits 1 → 3 on 2 replicas: promoted on 2/2 (every metric passed).');
  const split = [{ replica: replica('r0'), canary: canary('promoted', 4, 100) }, { replica: replica('r1'), canary: canary('rolled_back', 2, 0) }];
  assert.equal(
    fleetOutcomeText({ model: 'digits', candidate: '3' }, split, [{ replica: replica('r2'), error: 'down (connection refused)' }]),
    'Canary digits 1 → 3 on 3 replicas: the replicas disagree: r0 promoted, r1 rolled back. r2 (http://r2:8000) did not start it: down (connection refused)',
  );
});
