// The local fleet (npm run fleet) with its real parts: two agents behind Debian's nginx, sharing a
// redis-server, scraped by a Prometheus. Traffic reaches every replica; a feature written once is
// served by all; a replica SIGKILLed under load and a rolling restart under load cost no failed
// requests (nginx resends inference to the other replica); a breaker opened on one replica is that
// replica's state, and nginx routes around it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { InferResponse } from '../../common/api.js';
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
