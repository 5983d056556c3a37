// The local fleet (npm run fleet) with its real parts: two agents behind Debian's nginx, sharing a
// redis-server, scraped by a Prometheus. Traffic reaches every replica; a feature written once is
// served by all; a replica SIGKILLed under load and a rolling restart under load cost no failed
// requests (nginx resends inference to the other replica); a breaker opened on one replica is that
// replica's state, and nginx routes around it; a canary started on every replica with the
// Prometheus source reaches one decision on each, and the fleet's split is the canary's weight.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Canary, InferResponse } from '../../common/api.js';
import { encodeVector } from '../../agent/src/features/redisFeatureSource.js';
import { readDemoFeatures } from '../../scripts/lib/demoFeatures.js';
import { FEATURE_PREFIX, Fleet, readState, stillOurs } from '../../scripts/lib/fleet.js';
import { BUNDLED_MODELS, waitFor } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { requireBinary } from '../helpers/systemBinary.js';

const bins = [requireBinary('nginx', 'nginx'), requireBinary('redis-server', 'redis-server'), requireBinary('prometheus', 'prometheus')];
const skipped = bins.find((b) => 'skip' in b) as { skip: string } | undefined;
const skip = skipped ? skipped.skip : false;
const REPLICAS = 2;
const CLIENTS = 32;

let fleet: Fleet;
let dir: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'inferscope-fleet-'));
  fleet = await Fleet.start({ replicas: REPLICAS, dir, scrapeIntervalS: 1, drainTimeoutS: 10 });
});
after(async () => {
  if (!fleet) return;
  const records = [...fleet.state.replicas, fleet.state.nginx, fleet.state.redis, fleet.state.prometheus];
  await Fleet.open(dir).down(); // as `npm run fleet -- --down` does: from the state file alone
  assert.deepEqual(records.filter(stillOurs).map((r) => r.name), [], 'everything the fleet started has stopped');
  assert.equal(readState(dir), undefined);
  rmSync(dir, { recursive: true, force: true });
});

const auth = () => fleet.authHeaders;

/** Sum of a counter over all its series in a replica's /metrics (0 when absent). */
async function counter(replica: number, name: string, labels: RegExp = /.*/): Promise<number> {
  // Retried once: the agent closes keep-alive connections idle for 5 s, and fetch may just have picked one.
  const get = () => request<string>(`${fleet.replicaUrl(replica)}/metrics`, { headers: auth() });
  const text = (await get().catch(get)).body;
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) if (labels.test(m[1] ?? '')) sum += Number(m[2]);
  return sum;
}
const served = (replica: number) => counter(replica, 'inferscope_inference_requests_total');

/** CLIENTS clients, each sending inference requests through nginx one after another until stopped. */
class Load {
  ok = 0;
  failed = 0;
  readonly failures: string[] = [];
  private stopping = false;
  private readonly done: Promise<void[]>;

  constructor(url: string, body: unknown, headers: Record<string, string>, clients = CLIENTS) {
    const text = JSON.stringify(body);
    const h = { ...headers, 'content-type': 'application/json' };
    const client = async () => {
      while (!this.stopping) {
        try {
          const res = await fetch(url, { method: 'POST', headers: h, body: text });
          const answer = await res.text();
          if (res.status === 200) this.ok++;
          else this.fail(`${res.status} ${answer.slice(0, 200)}`);
        } catch (err) {
          this.fail(`${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
        }
      }
    };
    this.done = Promise.all(Array.from({ length: clients }, client));
  }

  private fail(why: string): void {
    this.failed++;
    if (this.failures.length < 10) this.failures.push(why);
  }

  /** Waits until `n` more requests have succeeded. */
  async more(n: number): Promise<void> {
    const target = this.ok + n;
    await waitFor(() => this.ok >= target || this.failed > 1000, 60_000, () => this.failures.join('\n'));
  }

  async stop(): Promise<{ ok: number; failed: number }> {
    this.stopping = true;
    await this.done;
    return { ok: this.ok, failed: this.failed };
  }
}

const inferUrl = () => `${fleet.state.lbUrl}/v2/models/digits/versions/1/infer`;

/** Waits until nginx sends replica i traffic again (its counter grows while `load` runs). */
async function takingTraffic(i: number): Promise<void> {
  const before = await served(i);
  await waitFor(async () => (await served(i)) > before, 30_000);
}

test('traffic through nginx reaches every replica, each request counted once; Prometheus scrapes every replica', { skip }, async () => {
  const before = await Promise.all(fleet.state.replicas.map((_, i) => served(i)));
  const N = 20;
  const upstreams = new Set<string>();
  for (let k = 0; k < N; k++) {
    const r = await request<InferResponse>(inferUrl(), { body: exampleRequest(k % 10), headers: auth() });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    upstreams.add(r.headers.get('x-inferscope-upstream')!);
  }
  const after = await Promise.all(fleet.state.replicas.map((_, i) => served(i)));
  const grew = after.map((a, i) => a - before[i]!);
  for (const [i, g] of grew.entries()) assert.ok(g > 0, `replica ${i} served none of ${N}: ${grew}`);
  assert.equal(grew.reduce((a, b) => a + b, 0), N, 'no request was sent twice');
  assert.deepEqual([...upstreams].sort(), fleet.state.replicas.map((r) => `127.0.0.1:${r.port}`).sort());

  // The token travels through nginx: without it, 401 from whichever replica answers.
  assert.equal((await request(inferUrl(), { body: exampleRequest(1) })).status, 401);

  const prom = async (q: string) =>
    ((await (await fetch(`${fleet.state.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  await waitFor(async () => (await prom('up{job="inferscope"} == 1')).length === REPLICAS, 20_000);
  const replicas = (await prom('sum by (replica) (inferscope_inference_requests_total)')).map((s) => s.metric.replica).sort();
  assert.deepEqual(replicas, ['r0', 'r1']);
});

test('an entity written once to Redis is served by every replica, and through nginx', { skip }, async () => {
  const features = readDemoFeatures(join(BUNDLED_MODELS, 'digits', 'features'));
  const vector = features.get('digit-5')!;
  const client = new Redis(fleet.state.redisUrl);
  try {
    await client.set(`${FEATURE_PREFIX}written-once`, encodeVector(vector));
  } finally {
    client.disconnect();
  }
  const direct = await request<InferResponse>(`${fleet.replicaUrl(0)}/v2/models/digits/versions/2/infer`, {
    body: { inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: Array.from(vector) }] },
    headers: auth(),
  });
  assert.equal(direct.status, 200);
  const urls = [...fleet.state.replicas.map((_, i) => fleet.replicaUrl(i)), fleet.state.lbUrl];
  for (const url of urls) {
    const r = await request<InferResponse>(`${url}/v2/models/digits/versions/2/infer`, { body: { parameters: { entities: ['written-once'] } }, headers: auth() });
    assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(r.body.outputs[0]!.data, direct.body.outputs[0]!.data, url);
  }
  for (const [i] of fleet.state.replicas.entries()) {
    assert.ok((await counter(i, 'inferscope_feature_source_fetch_duration_seconds_count', /source="redis"/)) >= 1, `replica ${i} read Redis`);
  }
});

test(`a replica SIGKILLed under load (${CLIENTS} clients): failures counted and bounded, the fleet keeps serving`, { skip }, async (t) => {
  const load = new Load(inferUrl(), exampleRequest(3), auth());
  try {
    await load.more(200);
    await fleet.stopReplica(1, 'SIGKILL');
    const failedAtKill = load.failed;
    await load.more(400); // served by the survivor alone
    const { ok, failed } = await load.stop();
    t.diagnostic(`SIGKILL under load: ${ok} ok, ${failed} failed (${failed - failedAtKill} after the kill)${load.failures.length ? `: ${load.failures.join(' | ')}` : ''}`);
    // At worst the requests in flight on the killed replica; nginx resends those (goal: zero).
    assert.ok(failed <= CLIENTS, `${failed} failed: ${load.failures.join('\n')}`);
  } finally {
    await load.stop();
  }
  await fleet.startReplica(1);
  // Back in rotation once nginx's fail_timeout has passed: it takes traffic again.
  const again = new Load(inferUrl(), exampleRequest(3), auth(), 4);
  try {
    await takingTraffic(1);
  } finally {
    const { failed } = await again.stop();
    assert.equal(failed, 0, again.failures.join('\n'));
  }
});

test(`a rolling restart under load (${CLIENTS} clients, SIGTERM one replica at a time): no failed request`, { skip }, async (t) => {
  const load = new Load(inferUrl(), exampleRequest(7), auth());
  const pids = fleet.state.replicas.map((r) => r.pid);
  try {
    await load.more(100);
    for (let i = 0; i < REPLICAS; i++) {
      await fleet.stopReplica(i, 'SIGTERM'); // drains: in-flight requests finish, new ones get 503 (resent by nginx)
      await fleet.startReplica(i); // same port, waits for /v2/health/ready
      await takingTraffic(i);
    }
    await load.more(100);
  } finally {
    const { ok, failed } = await load.stop();
    t.diagnostic(`rolling restart under load: ${ok} ok, ${failed} failed${load.failures.length ? `: ${load.failures.join(' | ')}` : ''}`);
    assert.equal(failed, 0, load.failures.join('\n'));
  }
  fleet.state.replicas.forEach((r, i) => assert.notEqual(r.pid, pids[i], `replica ${i} was restarted`));
});

test('a breaker opened on one replica is that replica’s state; nginx routes around it', { skip }, async () => {
  const breaker = (i: number, action: 'open' | 'reset') =>
    request<{ state: string }>(`${fleet.replicaUrl(i)}/api/v1/models/digits/versions/1/breaker`, { body: { action }, headers: auth() });
  assert.equal((await breaker(0, 'open')).status, 200);
  try {
    assert.equal(await counter(0, 'inferscope_breaker_state', /model="digits".*version="1"/), 2);
    assert.equal(await counter(1, 'inferscope_breaker_state', /model="digits".*version="1"/), 0);
    // Straight to replica 0: 503. Through nginx: every request answered (by replica 1).
    assert.equal((await request(`${fleet.replicaUrl(0)}/v2/models/digits/versions/1/infer`, { body: exampleRequest(2), headers: auth() })).status, 503);
    for (let k = 0; k < 20; k++) {
      const r = await request(inferUrl(), { body: exampleRequest(2), headers: auth() });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.headers.get('x-inferscope-upstream')?.split(', ').at(-1), `127.0.0.1:${fleet.state.replicas[1]!.port}`);
    }
  } finally {
    await breaker(0, 'reset');
  }
});

/** An instant query at `timeS` (epoch seconds; default now). */
async function promQuery(q: string, timeS?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const params = new URLSearchParams({ query: q, ...(timeS !== undefined ? { time: timeS.toFixed(3) } : {}) });
  const body = (await (await fetch(`${fleet.state.prometheusUrl}/api/v1/query?${params}`)).json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', `${q}: ${body.error}`);
  return body.data.result;
}

/** Waits until Prometheus holds a scrape of every replica taken after `t` (epoch ms). */
async function scrapedAfter(t: number): Promise<void> {
  await waitFor(async () => {
    const r = await promQuery('timestamp(inferscope_build_info{job="inferscope"})');
    return r.length === REPLICAS && r.every((s) => Number(s.value[1]) * 1000 > t);
  }, 20_000);
}

test('a canary started on every replica with the Prometheus source: one decision on each, and the fleet\'s split is the canary\'s weight', { skip }, async (t) => {
  const WEIGHT = 30;
  const body = {
    model: 'digits',
    candidate: '3', // a twin of version 1
    steps: [WEIGHT, 100],
    // The first check comes after 15 s: the split is measured before it (a check may already decide).
    interval_s: 15,
    checks_per_step: 1,
    thresholds: { min_samples: 30, max_inconclusive_checks: 12 },
    // One anchor for both, taken right before they are started: their checks read the same windows
    // (the extension's Evaluate Canary sends one too).
    source: { kind: 'prometheus', url: fleet.state.prometheusUrl, anchor: '' },
  };
  const load = new Load(`${fleet.state.lbUrl}/v2/models/digits/infer`, exampleRequest(4), auth(), 8);
  try {
    // nginx may still skip a replica that answered 503s in the tests before (fail_timeout): wait until both take traffic.
    for (const [i] of fleet.state.replicas.entries()) await takingTraffic(i);
    body.source.anchor = new Date().toISOString();
    const started = await Promise.all(fleet.state.replicas.map((_, i) => request<Canary>(`${fleet.replicaUrl(i)}/api/v1/canaries`, { body, headers: auth() })));
    for (const s of started) assert.equal(s.status, 201, JSON.stringify(s.body));
    const get = (i: number) => request<Canary>(`${fleet.replicaUrl(i)}/api/v1/canaries/${started[i]!.body.id}`, { headers: auth() }).then((r) => r.body);
    const all = () => Promise.all(fleet.state.replicas.map((_, i) => get(i)));
    const atFirstStep = (cs: Canary[]) => cs.every((c) => c.state === 'running' && c.step === 0 && c.weight === WEIGHT);

    // The window: from a scrape of every replica taken after both split at WEIGHT%, to one taken
    // while both still do (weights only grow, so everything counted between ran at WEIGHT%).
    assert.ok(atFirstStep(await all()), 'both replicas start at the first step');
    const t0 = Date.now();
    await scrapedAfter(t0);
    const t1 = Date.now();
    await load.more(800);
    const t2a = Date.now();
    await scrapedAfter(t2a);
    const t2 = Date.now();
    const still = await all();
    assert.ok(atFirstStep(still), `both replicas were still at ${WEIGHT}% when the window closed: ${JSON.stringify(still.map((c) => [c.state, c.step, c.weight]))}`);

    // Requests per replica and version in the window, from Prometheus (counters at t2 minus at t1).
    const byReplica = async (at: number) => {
      const out = new Map<string, number>();
      for (const s of await promQuery('sum by (replica, version) (inferscope_inference_requests_total{model="digits"})', at / 1000)) out.set(`${s.metric.replica}/${s.metric.version}`, Number(s.value[1]));
      return out;
    };
    const [before, after] = [await byReplica(t1), await byReplica(t2)];
    const served = (replica: string, v: string) => (after.get(`${replica}/${v}`) ?? 0) - (before.get(`${replica}/${v}`) ?? 0);
    const replicas = fleet.state.replicas.map((_, i) => `r${i}`);
    const fleetServed = (v: string) => replicas.reduce((a, r) => a + served(r, v), 0);
    const n = fleetServed('1') + fleetServed('3');
    const share = fleetServed('3') / n;
    const p = WEIGHT / 100;
    // Four binomial standard deviations: a real split misses it about once in 15,000 runs, and with
    // 150+ requests it is under half the weight, so no split, or a split on only some replicas, cannot pass.
    const tolerance = (k: number) => 4 * Math.sqrt((p * (1 - p)) / k);
    t.diagnostic(
      `fleet split at ${WEIGHT}%: ${fleetServed('3')} of ${n} requests to the candidate (${(share * 100).toFixed(1)}%, tolerance ±${(tolerance(n) * 100).toFixed(1)} points); ` +
        replicas.map((r) => `${r}: ${served(r, '3')} of ${served(r, '1') + served(r, '3')}`).join(', ') +
        `; version 2: ${fleetServed('2')}`,
    );
    assert.equal(fleetServed('2'), 0, 'no request to the version outside the canary');
    assert.ok(n >= 600, `${n} requests in the window`);
    assert.ok(Math.abs(share - p) <= tolerance(n), `fleet candidate share ${share.toFixed(3)} vs the canary's ${p} (±${tolerance(n).toFixed(3)})`);
    // Every replica took part, and split as its canary says (so the fleet's figure is not one replica's).
    for (const r of replicas) {
      const k = served(r, '1') + served(r, '3');
      assert.ok(tolerance(k) < p / 2, `${r} served ${k} requests in the window: too few to tell its split from none`);
      assert.ok(Math.abs(served(r, '3') / k - p) <= tolerance(k), `${r}: candidate share ${(served(r, '3') / k).toFixed(3)} vs ${p} (±${tolerance(k).toFixed(3)})`);
    }

    await waitFor(async () => (await all()).every((c) => c.state !== 'running'), 120_000);
    const final = await all();
    t.diagnostic(`decisions: ${final.map((c, i) => `replica ${i}: ${c.state} (${c.reason})`).join('; ')}`);
    assert.equal(new Set(final.map((c) => c.state)).size, 1, `one decision: ${final.map((c) => `${c.state}: ${c.reason}`).join(' | ')}`);
    for (const c of final) assert.deepEqual(c.source, body.source);
    // Not only the same decision: the same evidence at every check, because each check of each
    // replica read the same Prometheus windows (without the anchor the figures differ by when each
    // replica asked: tried, they did).
    const ledger = (c: Canary) => c.checks.map((k) => ({ step: k.step, decision: k.decision, metrics: k.metrics }));
    assert.ok(final[0]!.checks.length > 0);
    for (const c of final.slice(1)) assert.deepEqual(ledger(c), ledger(final[0]!));
  } finally {
    const { failed } = await load.stop();
    assert.equal(failed, 0, load.failures.join('\n'));
  }
});
