// Issue 17: every request is recorded with where its time went and the batch it rode in, and every
// batch with why it left the queue. A real agent under concurrent batched traffic, three copies of
// digits/1 with different batching rules, entity requests through the feature cache, an open
// breaker, and gRPC.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BatchRecord, RequestRecord } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { InferenceClient } from '../helpers/grpcClient.js';
import { exampleRequest, request } from '../helpers/http.js';

const repo = mkdtempSync(join(tmpdir(), 'inferscope-records-'));
let agent: AgentProcess;

/** digits/1 under another name, with its own batching rules (and more config, e.g. instance_count). */
function copy(name: string, batching: Record<string, unknown>, more: Record<string, unknown> = {}): void {
  cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, name, '1'), { recursive: true });
  cpSync(join(BUNDLED_MODELS, 'digits', 'features'), join(repo, name, 'features'), { recursive: true });
  const config = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'config.json'), 'utf8')) as Record<string, unknown>;
  delete config.name;
  delete config.default_version;
  Object.assign(config, { execution_providers: ['cpu'], max_batch_size: 64, dynamic_batching: { max_queue_size: 1024, ...batching }, ...more });
  writeFileSync(join(repo, name, 'config.json'), JSON.stringify(config));
}

before(async () => {
  copy('fast', { max_queue_delay_ms: 0 });
  copy('delayed', { max_queue_delay_ms: 5 });
  copy('preferred', { max_queue_delay_ms: 50, preferred_batch_size: [4] });
  copy('pair', { max_queue_delay_ms: 0 }, { instance_count: 2 });
  agent = await startAgent({ args: ['--models', repo] });
  for (let i = 0; i < 100; i++) if ((await request(`${agent.url}/v2/health/ready`)).status === 200) break;
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

const infer = (model: string, digit: number) => request(`${agent.url}/v2/models/${model}/infer`, { body: exampleRequest(digit) });
const requestsOf = async (query: string) => (await request<{ requests: RequestRecord[] }>(`${agent.url}/api/v1/requests?${query}`)).body.requests;
const batch = async (id: string) => (await request<BatchRecord & { requests: RequestRecord[] }>(`${agent.url}/api/v1/batches/${id}`)).body;
const metric = (text: string, name: string, model: string) => Number(new RegExp(`^${name}\\{model="${model}",version="1"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

test('256 requests at once: every request names its batch and the batch lists it; batch sizes are the histogram\'s; phases add up', async () => {
  const metricsBefore = (await request<string>(`${agent.url}/metrics`)).body;
  const answers = await Promise.all(Array.from({ length: 256 }, (_, i) => infer('fast', i % 10)));
  assert.ok(answers.every((a) => a.status === 200));
  const records = await requestsOf('model=fast&outcome=success&limit=256');
  assert.equal(records.length, 256);
  const batches = new Map<string, BatchRecord & { requests: RequestRecord[] }>();
  for (const r of records) {
    assert.equal(r.protocol, 'rest');
    assert.equal(r.version, '1');
    assert.equal(r.canary_routed, false);
    assert.ok(r.batch_id, `${r.id} names its batch`);
    if (!batches.has(r.batch_id!)) batches.set(r.batch_id!, await batch(r.batch_id!));
    const b = batches.get(r.batch_id!)!;
    assert.ok(b.request_ids.includes(r.id), `${b.id} lists ${r.id}`);
    const p = r.phases;
    const order = [p.body_read_ms, p.parsed_ms, p.admitted_ms, p.enqueued_ms, p.dispatched_ms, p.compute_start_ms, p.compute_end_ms, p.responded_ms];
    assert.ok(order.every((t) => typeof t === 'number'), JSON.stringify(p));
    for (let k = 1; k < order.length; k++) assert.ok(order[k]! >= order[k - 1]! - 0.001, `phases in order: ${JSON.stringify(p)}`);
    assert.equal(r.duration_ms, p.responded_ms);
  }
  // Each batch's rows are its requests' rows, and together they are what the histogram counted.
  const metricsAfter = (await request<string>(`${agent.url}/metrics`)).body;
  let rows = 0;
  for (const b of batches.values()) {
    assert.equal(b.rows, b.requests.reduce((n, r) => n + r.rows!, 0));
    assert.equal(b.requests.length, b.request_ids.length);
    assert.ok(['instance_idle', 'full_to_busy_instance', 'max_batch_size'].includes(b.reason), b.reason);
    assert.equal(b.device, 'cpu');
    rows += b.rows;
  }
  assert.equal(rows, 256);
  assert.equal(metric(metricsAfter, 'inferscope_batch_size_sum', 'fast') - metric(metricsBefore, 'inferscope_batch_size_sum', 'fast'), rows);
  assert.equal(metric(metricsAfter, 'inferscope_batch_size_count', 'fast') - metric(metricsBefore, 'inferscope_batch_size_count', 'fast'), batches.size);
  assert.ok(batches.size < 256, 'concurrent requests shared batches');
  const releases = [...metricsAfter.matchAll(/^inferscope_batch_releases_total\{model="fast",version="1",reason="(\w+)"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[2]), 0);
  assert.ok(releases >= batches.size);
});

test('two CPU instances: under concurrent traffic batches name both, each in range, and their requests say the same', async () => {
  const seen = new Set<number>();
  // While one instance runs a batch the next goes to the other: a burst uses both. A few bursts at
  // most, in case a fast machine answers one burst on a single instance.
  for (let round = 0; round < 5 && seen.size < 2; round++) {
    const answers = await Promise.all(Array.from({ length: 128 }, (_, i) => infer('pair', i % 10)));
    assert.ok(answers.every((a) => a.status === 200));
    const records = await requestsOf('model=pair&limit=128');
    assert.equal(records.length, 128);
    const batches = new Map<string, BatchRecord>();
    for (const r of records) {
      assert.ok(r.batch_id);
      const b = batches.get(r.batch_id!) ?? (await batch(r.batch_id!));
      batches.set(b.id, b);
      assert.equal(b.device, 'cpu');
      assert.equal(b.instance_count, 2);
      assert.ok(Number.isInteger(b.instance) && b.instance! >= 0 && b.instance! < 2, `${b.id} ran on instance ${b.instance}`);
      assert.deepEqual([r.instance, r.instance_count], [b.instance, 2], `${r.id} names its batch's instance`);
      seen.add(b.instance!);
    }
  }
  assert.deepEqual([...seen].sort(), [0, 1], 'batches ran on both instances');
  // One instance (the other models): instance 0 of 1.
  const [one] = await requestsOf('model=fast&limit=1');
  assert.deepEqual([one?.instance, one?.instance_count], [0, 1]);
});

test('a second of requests, slowest first: until is exclusive, sort=duration sorts before the limit', async () => {
  await Promise.all(Array.from({ length: 20 }, (_, i) => infer('fast', i % 10)));
  const all = await requestsOf('model=fast&limit=10000');
  const until = all[0]!.received_at; // the newest: excluded
  const since = until - 1000;
  const expected = all.filter((r) => r.received_at >= since && r.received_at < until).sort((a, b) => b.duration_ms - a.duration_ms || b.received_at - a.received_at);
  const got = await requestsOf(`model=fast&since=${since}&until=${until}&sort=duration&limit=5`);
  assert.deepEqual(got.map((r) => r.id), expected.slice(0, 5).map((r) => r.id));
  assert.equal((await request(`${agent.url}/api/v1/requests?sort=size`)).status, 400);
});

test('release reasons follow the configuration: a queue delay, a preferred size', async () => {
  await Promise.all(Array.from({ length: 3 }, (_, i) => infer('delayed', i)));
  const delayed = await requestsOf('model=delayed&limit=3');
  assert.deepEqual([...new Set(await Promise.all(delayed.map(async (r) => (await batch(r.batch_id!)).reason)))], ['max_queue_delay']);
  await Promise.all(Array.from({ length: 4 }, (_, i) => infer('preferred', i)));
  const preferred = await requestsOf('model=preferred&limit=4');
  const b = await batch(preferred[0]!.batch_id!);
  assert.equal(b.reason, 'preferred_size');
  assert.equal(b.rows, 4);
});

test('entity requests: hits, then misses after the cache is cleared', async () => {
  const body = { parameters: { entities: ['digit-1', 'digit-2'] } };
  const url = `${agent.url}/v2/models/fast/infer`;
  assert.equal((await request(url, { body })).status, 200);
  assert.equal((await request(url, { body })).status, 200);
  assert.equal((await request(`${agent.url}/api/v1/cache`, { method: 'DELETE' })).status, 200);
  assert.equal((await request(url, { body })).status, 200);
  const [cleared, warm, first] = await requestsOf('model=fast&limit=3');
  assert.deepEqual(first!.entities, { count: 2, hits: 0, misses: 2, stale: 0, negative: 0 });
  assert.deepEqual(warm!.entities, { count: 2, hits: 2, misses: 0, stale: 0, negative: 0 });
  assert.deepEqual(cleared!.entities, { count: 2, hits: 0, misses: 2, stale: 0, negative: 0 });
  assert.ok(warm!.phases.features_ms! >= warm!.phases.parsed_ms!);
});

test('a request refused by an open breaker is recorded with the breaker\'s state and the reason; failures are kept and can be filtered', async () => {
  const breaker = `${agent.url}/api/v1/models/delayed/versions/1/breaker`;
  assert.equal((await request(breaker, { body: { action: 'open' } })).status, 200);
  const refused = await infer('delayed', 3);
  assert.equal(refused.status, 503);
  const [r] = await requestsOf('model=delayed&outcome=circuit_open&limit=1');
  assert.equal(r!.breaker, 'open');
  assert.equal(r!.status, 503);
  assert.match(r!.error!, /circuit breaker/i);
  assert.equal(r!.batch_id, undefined, 'it never reached the queue');
  assert.deepEqual(await (await fetch(`${agent.url}/api/v1/requests/${r!.id}`)).json(), r);
  await request(breaker, { body: { action: 'reset' } });
  // Unknown ids and bad queries say what is wrong.
  assert.equal((await request(`${agent.url}/api/v1/requests/nope`)).status, 404);
  const bad = await request<{ error: string }>(`${agent.url}/api/v1/requests?limit=-1`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /limit/);
});

test('gRPC requests are recorded too, with the status code\'s name', async () => {
  const grpc = new InferenceClient(agent.grpcPort!);
  try {
    const pixels = exampleRequest(4).inputs[0]!.data as number[];
    await grpc.call('ModelInfer', { model_name: 'fast', id: 'grpc-4', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [Buffer.from(Float32Array.from(pixels).buffer)] });
    await grpc.failure('ModelInfer', { model_name: 'fast', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [Buffer.alloc(12)] });
  } finally {
    grpc.close();
  }
  const [failed, ok] = await requestsOf('model=fast&limit=2');
  assert.deepEqual([ok!.protocol, ok!.status, ok!.client_id, typeof ok!.batch_id], ['grpc', 'OK', 'grpc-4', 'string']);
  assert.deepEqual([failed!.protocol, failed!.status, failed!.outcome], ['grpc', 'INVALID_ARGUMENT', 'invalid_input']);
  assert.equal((await fetch(`${agent.url}/api/v1/requests/grpc-4`).then((r) => r.json()) as RequestRecord).id, ok!.id, 'found by the client\'s id');
});

test('OpenMetrics: each latency bucket carries the id of its latest request as an exemplar, and the id opens that request', async () => {
  await Promise.all(Array.from({ length: 8 }, (_, i) => infer('fast', i)));
  const om = await (await fetch(`${agent.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
  const lines = [...om.matchAll(/^inferscope_inference_request_duration_seconds_bucket\{le="([^"]+)",model="fast",version="1"\} (\d+) # \{request_id="(r[0-9a-z]+)"\} (\S+) (\S+)$/gm)];
  assert.ok(lines.length > 0, 'bucket lines with exemplars');
  for (const [, le, , id, value, at] of lines) {
    assert.ok(Number(value) <= (le === '+Inf' ? Infinity : Number(le)), `exemplar ${value} within le=${le}`);
    assert.ok(Math.abs(Number(at) * 1000 - Date.now()) < 600_000, 'an epoch-seconds timestamp');
    const r = (await request<RequestRecord>(`${agent.url}/api/v1/requests/${id}`)).body;
    assert.equal(r.model, 'fast');
    assert.equal(r.outcome, 'success');
  }
  assert.match(om, /# EOF\n$/);
  // The Prometheus text format has no exemplars.
  assert.doesNotMatch((await request<string>(`${agent.url}/metrics`)).body, /request_id=/);
});
