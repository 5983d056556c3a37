// The status bar with a fleet configured: while connected it counts the replicas Prometheus sees and
// shows the fleet's request rate; a replica down (or a breaker open anywhere) is a warning naming
// it; Prometheus unreadable says why; the agent's own states still win while not connected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FleetReplica, FleetView } from '../../extension/src/fleet/fleetTargets.js';
import { statusBarView, type FleetStatus } from '../../extension/src/views/statusBarText.js';

const ready = { kind: 'ready', url: 'http://lb:8080', pid: 0 } as const;
const LB = 'http://lb:8080';
const replica = (i: number, extra: Partial<FleetReplica> = {}): FleetReplica => ({
  name: `r${i}`,
  instance: `127.0.0.1:800${i}`,
  job: 'inferscope',
  url: `http://127.0.0.1:800${i}`,
  health: 'up',
  lastError: '',
  breakers: [{ model: 'digits', version: '1', state: 'closed' }],
  ...extra,
});
const fleet = (replicas: FleetReplica[], rps: number | null = 123): FleetStatus => ({
  prometheusUrl: 'http://prom:9090',
  view: { prometheusUrl: 'http://prom:9090', replicas, scrapeIntervalS: 1 } satisfies FleetView,
  error: undefined,
  requestsPerSecond: rps ?? undefined,
});

test("connected to a fleet: the replicas up of those Prometheus lists, and the fleet's rate", () => {
  const v = statusBarView(ready, LB, undefined, 4, fleet([replica(0), replica(1)]));
  assert.equal(v.text, '$(server-environment) Inferscope: fleet: 2 of 2 replicas up · 123 req/s');
  assert.equal(v.severity, 'normal');
  assert.equal(v.summary, 'Through http://lb:8080; replicas from the Prometheus at http://prom:9090.');
  assert.equal(statusBarView(ready, LB, undefined, 4, fleet([replica(0)], 0.5)).text, '$(server-environment) Inferscope: fleet: 1 of 1 replica up · 0.50 req/s');
  // No rate read yet: no rate (not the one replica's that answered).
  assert.equal(statusBarView(ready, LB, undefined, 4, fleet([replica(0)], null)).text, '$(server-environment) Inferscope: fleet: 1 of 1 replica up');
});

test('a replica down: warning, named with its last scrape error; a breaker open on one replica: named with it', () => {
  const down = statusBarView(ready, LB, undefined, undefined, fleet([replica(0), replica(1, { health: 'down', lastError: 'connection refused\nmore', breakers: [] })], 60.25));
  assert.equal(down.text, '$(warning) Inferscope: fleet: 1 of 2 replicas up · 60.3 req/s');
  assert.equal(down.severity, 'warning');
  assert.equal(down.summary, 'Replica r1 (127.0.0.1:8001) is down: connection refused. Through http://lb:8080; replicas from the Prometheus at http://prom:9090.');
  const open = statusBarView(ready, LB, undefined, undefined, fleet([replica(0, { breakers: [{ model: 'digits', version: '2', state: 'open' }] }), replica(1)]));
  assert.equal(open.severity, 'warning');
  assert.match(open.text, /^\$\(warning\) Inferscope: fleet: 2 of 2 replicas up/);
  assert.match(open.summary, /^Circuit breaker open: digits\/2 on r0\./);
  // Not scraped yet: not up, not a warning.
  assert.equal(statusBarView(ready, LB, undefined, undefined, fleet([replica(0), replica(1, { health: 'unknown' })])).severity, 'normal');
});

test('Prometheus unreadable or still being read; no replicas; the agent not connected shows the agent state', () => {
  const err = statusBarView(ready, LB, undefined, 4, { prometheusUrl: 'http://prom:9090', view: undefined, error: 'Prometheus at http://prom:9090 answered 401: it needs credentials; set them with "X"', requestsPerSecond: undefined });
  assert.equal(err.text, '$(warning) Inferscope: fleet: cannot read Prometheus');
  assert.equal(err.severity, 'warning');
  assert.match(err.summary, /^Prometheus at http:\/\/prom:9090 answered 401: it needs credentials; set them with "X" Through/);
  assert.match(statusBarView(ready, LB, undefined, 4, { prometheusUrl: 'p', view: undefined, error: undefined, requestsPerSecond: undefined }).text, /loading~spin.*fleet: reading Prometheus/);
  assert.equal(statusBarView(ready, LB, undefined, 4, fleet([])).text, '$(warning) Inferscope: fleet: no replicas');
  assert.equal(statusBarView({ kind: 'stopped' }, LB, undefined, undefined, fleet([replica(0)])).text, '$(circle-slash) Inferscope: stopped (remote)');
  assert.equal(statusBarView({ kind: 'failed', message: 'refused' }, LB, undefined, undefined, fleet([replica(0)])).text, '$(error) Inferscope: down (remote)');
});
