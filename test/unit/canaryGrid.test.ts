// A fleet's canaries on one grid: replicas given the same `source.anchor` check at anchor + k·interval
// (not interval after their own start, nor after their last check) and ask Prometheus for the same
// windows at the same evaluation time, so they judge the same samples. Real HTTP to a stand-in
// Prometheus that records what each replica asked; time is each replica's injected clock.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CanaryController } from '../../agent/src/canary/canaryController.js';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';
import { CanaryStore } from '../../agent/src/canary/canaryStore.js';
import { PrometheusAllowlist } from '../../agent/src/canary/prometheusUrls.js';
import { InvalidInputError } from '../../agent/src/errors.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import type { ModelManager } from '../../agent/src/models/modelManager.js';
import { breakerSettingsSchema } from '../../agent/src/resilience/breakerSettings.js';
import { CircuitBreaker } from '../../agent/src/resilience/circuitBreaker.js';
import { FakeClock, flush } from '../helpers/fakeClock.js';

const dirs: string[] = [];
const servers: Server[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A Prometheus that answers every instant query with no series, recording each query by the replica that asked (its path prefix). */
async function recordingPrometheus(): Promise<{ url: string; asked: Map<string, string[]> }> {
  const asked = new Map<string, string[]>();
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const replica = u.pathname.split('/')[1]!;
    const list = asked.get(replica) ?? [];
    list.push(`${u.searchParams.get('time')} ${u.searchParams.get('query')}`);
    asked.set(replica, list);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

function models(): ModelManager {
  const mine = new Map(['1', '2'].map((v) => [v, new CircuitBreaker(`m/${v}`, breakerSettingsSchema.parse({}), new FakeClock())]));
  return {
    status: () => [{ name: 'm', default_version: '1', versions: [] }],
    resolve: (_m: string, v: string) => ({ breaker: mine.get(v)! }),
    setDefaultVersion: () => undefined,
    // The test reaches a replica's breakers through its ModelManager.
    breakers: mine,
  } as unknown as ModelManager;
}

const ANCHOR = Date.parse('2026-12-03T15:00:00.000Z');

/** One replica's controller; its wall clock reads `ANCHOR + offsetMs` when it starts. */
function replica(prometheusUrl: string, offsetMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-grid-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const wallStart = ANCHOR + offsetMs - clock.now();
  const m = models();
  // The store's coalesced writes keep a clock of their own: the replica's clock then holds only the
  // canary's timer, which the test counts.
  const controller = new CanaryController(m, new CanaryStore(dir, () => undefined, { clock: new FakeClock() }), clock, silentLogger, Math.random, () => new Date(wallStart + clock.now()), new PrometheusAllowlist([prometheusUrl]));
  return { clock, controller, wall: () => wallStart + clock.now(), pendingTimers: () => clock.pendingTimers, breaker: (v: string) => (m as unknown as { breakers: Map<string, CircuitBreaker> }).breakers.get(v)! };
}

const gridSpec = (url: string, anchor: number | undefined, interval_s = 10) =>
  canarySpecSchema.parse({
    model: 'm',
    candidate: '2',
    steps: [50, 100],
    interval_s,
    checks_per_step: 2,
    source: { kind: 'prometheus', url, ...(anchor !== undefined ? { anchor: new Date(anchor).toISOString() } : {}) },
  });

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), what);
}

test('replicas with one anchor check on its grid and ask Prometheus the same queries at the same instant', async () => {
  const prom = await recordingPrometheus();
  // Started 0.1 s and 0.9 s after the anchor (the extension posts to each replica in turn).
  const reps = [replica(`${prom.url}/r0`, 100), replica(`${prom.url}/r1`, 900)];
  const canaries = reps.map((r, i) => r.controller.start(gridSpec(`${prom.url}/r${i}`, ANCHOR)));
  assert.deepEqual(canaries.map((c) => c.source), [0, 1].map((i) => ({ kind: 'prometheus', url: `${prom.url}/r${i}`, anchor: new Date(ANCHOR).toISOString() })));
  const asked = (i: number) => prom.asked.get(`r${i}`) ?? [];

  for (let k = 1; k <= 3; k++) {
    for (const [i, r] of reps.entries()) {
      // Just before the k-th grid point nothing is asked; at it, the check runs.
      const due = ANCHOR + k * 10_000;
      r.clock.advance(due - 1 - r.wall());
      await flush();
      // The check's timer has not fired: it is still pending, and nothing more was asked.
      assert.equal(r.clock.pendingTimers, 1, `replica ${i}, check ${k}: its timer still pending 1 ms before ${due}`);
      assert.equal(asked(i).length, (k - 1) * 6, `replica ${i}, check ${k}: nothing asked before ${due}`);
      r.clock.advance(1);
      assert.equal(r.clock.pendingTimers, 0, `replica ${i}, check ${k}: its timer fired at ${due}`);
      await until(`replica ${i} asked its 6 queries of check ${k}`, () => asked(i).length === k * 6);
      await until(`replica ${i} recorded check ${k}`, () => r.controller.get(canaries[i]!.id).checks.length === k);
    }
    // The same queries, windows and evaluation time on both: 2 s before the grid point.
    assert.deepEqual(asked(1).slice((k - 1) * 6), asked(0).slice((k - 1) * 6));
    const times = new Set(asked(0).slice((k - 1) * 6).map((q) => q.split(' ')[0]));
    assert.deepEqual([...times], [((ANCHOR + k * 10_000 - 2000) / 1000).toFixed(3)]);
  }
  // Windows count from the anchor, not from each replica's start: 8 s, 18 s, 28 s at checks 1, 2, 3.
  const windows = (i: number) => asked(i).filter((q) => q.includes('inferscope_inference_requests_total') && !q.includes('outcome=~"execution')).map((q) => /\[(\d+)s\]/.exec(q)![1]);
  assert.deepEqual(windows(0), ['8', '18', '28']);
  const latencyWindows = asked(0).filter((q) => q.includes('duration_seconds_bucket')).map((q) => /\[(\d+)s\]/.exec(q)![1]);
  for (const r of reps) r.controller.close();
  // No samples: every check is inconclusive, so the step does not change and the step window grows with the canary's.
  assert.deepEqual(latencyWindows, ['8', '18', '28']);
});

test("a late check does not push the next one off the grid; without an anchor a replica checks interval after its last check", async () => {
  const prom = await recordingPrometheus();
  const grid = replica(`${prom.url}/g`, 300);
  const own = replica(`${prom.url}/o`, 300);
  const g = grid.controller.start(gridSpec(`${prom.url}/g`, ANCHOR));
  const o = own.controller.start(gridSpec(`${prom.url}/o`, undefined));
  // Both clocks jump 4 s past the first check (a busy event loop): the grid replica's second check
  // stays at anchor + 20 s; the other's comes 10 s after its late first one.
  for (const r of [grid, own]) r.clock.advance(ANCHOR + 14_000 - r.wall());
  await until('both made their first check', () => grid.controller.get(g.id).checks.length === 1 && own.controller.get(o.id).checks.length === 1);
  for (const r of [grid, own]) r.clock.advance(ANCHOR + 20_000 - r.wall());
  await until('the grid replica made its second check at anchor + 20 s', () => grid.controller.get(g.id).checks.length === 2);
  assert.equal(own.pendingTimers(), 1, 'the other has not checked again: due at anchor + 24 s');
  own.clock.advance(ANCHOR + 24_000 - own.wall());
  await until('the other made its second check at anchor + 24 s', () => own.controller.get(o.id).checks.length === 2);
  // Without an anchor the queries carry no time (Prometheus evaluates them now).
  assert.ok((prom.asked.get('o') ?? []).every((q) => q.startsWith('null ')), JSON.stringify(prom.asked.get('o')));
  grid.controller.close();
  own.controller.close();
});

test('an anchor older than one interval, or more than 5 s ahead, is refused, saying how far it is', async () => {
  const prom = await recordingPrometheus();
  const r = replica(`${prom.url}/x`, 0);
  const refused = (anchor: number, how: RegExp) =>
    assert.throws(() => r.controller.start(gridSpec(`${prom.url}/x`, anchor)), (e: Error) => e instanceof InvalidInputError && /^source\.anchor must be at most 10 s \(one interval, at most 30\) before this agent's clock and at most 5 s after it/.test(e.message) && how.test(e.message));
  refused(ANCHOR - 10_001, /it is 10\.0 s before/);
  refused(ANCHOR + 5_001, /it is 5\.0 s after/);
  assert.throws(() => canarySpecSchema.parse({ model: 'm', candidate: '2', source: { kind: 'prometheus', url: prom.url, anchor: 'yesterday' } }), /expected an RFC 3339 time/);
  // At the edges: accepted.
  assert.equal(r.controller.start(gridSpec(`${prom.url}/x`, ANCHOR - 10_000)).source.kind, 'prometheus');
  r.controller.close();
  const r2 = replica(`${prom.url}/x`, 0);
  assert.equal(r2.controller.start(gridSpec(`${prom.url}/x`, ANCHOR + 5_000)).source.kind, 'prometheus');
  r2.controller.close();
});

test("on the grid a replica's own breaker does not decide (Prometheus's, every replica's over the same window, does)", async () => {
  const prom = await recordingPrometheus();
  const [grid, own] = [replica(`${prom.url}/g`, 0), replica(`${prom.url}/o`, 0)];
  const g = grid.controller.start(gridSpec(`${prom.url}/g`, ANCHOR));
  const o = own.controller.start(gridSpec(`${prom.url}/o`, undefined));
  for (const r of [grid, own]) {
    r.breaker('2').forceOpen();
    r.clock.advance(10_000);
  }
  await until('both checked', () => grid.controller.get(g.id).checks.length === 1 && own.controller.get(o.id).checks.length === 1);
  const breakerVerdict = (c: { checks: { metrics: { name: string; verdict: string }[] }[] }) => c.checks[0]!.metrics.find((x) => x.name === 'breaker')!.verdict;
  // Without an anchor this replica's open breaker rolls the candidate back; on the grid it waits for Prometheus to show it.
  assert.equal(own.controller.get(o.id).state, 'rolled_back');
  assert.equal(breakerVerdict(own.controller.get(o.id)), 'fail');
  assert.equal(grid.controller.get(g.id).state, 'running');
  assert.notEqual(breakerVerdict(grid.controller.get(g.id)), 'fail');
  grid.controller.close();
  own.controller.close();
});
