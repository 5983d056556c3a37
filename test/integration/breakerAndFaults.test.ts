// The circuit breaker end to end: fault injection makes a version fail, the breaker opens and
// answers 503 + Retry-After, metrics and events show it, the other version keeps serving, one trial
// goes through after the open duration, and removing the fault closes it again. Also the queue
// policy (queue full, deadline) under an injected latency.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { digitsRepo } from '../helpers/tempRepo.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import { SseClient } from '../helpers/sseClient.js';

const repo = digitsRepo((config) => {
  config.breaker = { consecutive_failures: 3, open_duration_ms: 1000, half_open_timeout_ms: 20_000 };
  config.dynamic_batching = { max_queue_delay_ms: 0, preferred_batch_size: [], max_queue_size: 2, default_timeout_ms: 0 };
});
let agent: AgentProcess;
let events: SseClient;

before(async () => {
  agent = await startAgent({ args: ['--models', repo, '--enable-faults'] });
  events = await SseClient.connect(`${agent.url}/api/v1/events`);
});
after(async () => {
  events.close();
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

const infer = (version: string, digit = 3, extra: object = {}) =>
  request<InferResponse & { error?: string }>(`${agent.url}/v2/models/digits/versions/${version}/infer`, { body: { ...exampleRequest(digit), ...extra } });
const fault = (version: string, body: object | null) =>
  request(`${agent.url}/api/v1/faults/digits/${version}`, body ? { method: 'PUT', body } : { method: 'DELETE' });
const breakerOf = async (version: string) =>
  (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models[0]!.versions.find((v) => v.version === version)!.breaker!;
const metric = async (re: RegExp) => Number(re.exec((await request<string>(`${agent.url}/metrics`)).body)?.[1]);

test('events stream starts with a snapshot of the status', async () => {
  const first = await events.next((m) => m.event === 'snapshot');
  assert.equal(first.data.agent.name, 'inferscope');
  assert.equal(first.data.models[0].versions[1].breaker.state, 'closed');
});

test('a failing version trips its breaker: 503 with Retry-After and the reason; the other version serves', async () => {
  assert.equal((await fault('2', { error_rate: 1 })).status, 200);
  for (let i = 0; i < 3; i++) {
    const r = await infer('2');
    assert.equal(r.status, 500);
    assert.match(r.body.error!, /digits\/2 failed to run: injected fault/);
  }
  const rejected = await infer('2');
  assert.equal(rejected.status, 503);
  assert.equal(rejected.headers.get('retry-after'), '1');
  assert.match(rejected.body.error!, /^circuit breaker open for digits\/2 \(3 consecutive failures\); next trial in 1 s$/);

  const ok = await infer('1', 8);
  assert.equal(ok.status, 200);
  assert.equal(argmax(ok.body.outputs[0]!.data as number[]), 8);

  const transition = await events.next((m) => m.event === 'breaker' && m.data.to === 'open');
  assert.deepEqual([transition.data.model, transition.data.version, transition.data.from, transition.data.reason], ['digits', '2', 'closed', '3 consecutive failures']);
  assert.equal(await metric(/inferscope_breaker_state\{model="digits",version="2"\} (\d+)/), 2);
  assert.equal(await metric(/inferscope_breaker_state\{model="digits",version="1"\} (\d+)/), 0);
  assert.equal(await metric(/inferscope_breaker_transitions_total\{model="digits",version="2",from="closed",to="open"\} (\d+)/), 1);
  assert.ok((await metric(/inferscope_breaker_rejected_requests_total\{model="digits",version="2"\} (\d+)/)) >= 1);
  assert.equal(await metric(/inferscope_breaker_calls_total\{model="digits",version="2",outcome="failure"\} (\d+)/), 3);
  const snap = await breakerOf('2');
  assert.equal(snap.state, 'open');
  assert.ok(snap.next_trial_at! > Date.now() - 100);
  assert.ok(agent.stderr().includes('WARN  circuit breaker transition model=digits/2 from=closed to=open'));
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.deepEqual(status.models[0]!.versions[1]!.fault, { error_rate: 1, latency_ms: 0 });
});

test('after the open duration exactly one trial goes through; while the fault stays it reopens', async () => {
  // The trial is held for a while (as a slow model would), so that the other two arrive while it
  // runs rather than after the breaker has opened again.
  assert.equal((await fault('2', { error_rate: 1, latency_ms: 300 })).status, 200);
  const { next_trial_at } = await breakerOf('2');
  await waitFor(async () => Date.now() >= next_trial_at! + 20, 5000);
  const answers = await Promise.all([infer('2'), infer('2'), infer('2')]);
  assert.deepEqual(answers.map((a) => a.status).sort(), [500, 503, 503]);
  assert.ok(answers.some((a) => /half-open for digits\/2/.test(a.body.error ?? '')));
  assert.equal((await breakerOf('2')).state, 'open');
});

test('once the fault is gone, the trial succeeds, the breaker closes and predictions are correct', async () => {
  assert.equal((await fault('2', null)).status, 204);
  const { next_trial_at } = await breakerOf('2');
  await waitFor(async () => Date.now() >= next_trial_at! + 20, 5000);
  const trial = await infer('2', 5);
  assert.equal(trial.status, 200);
  assert.equal(argmax(trial.body.outputs[0]!.data as number[]), 5);
  assert.equal((await breakerOf('2')).state, 'closed');
  await events.next((m) => m.event === 'breaker' && m.data.to === 'closed');
  assert.equal(await metric(/inferscope_breaker_state\{model="digits",version="2"\} (\d+)/), 0);
});

test('manual control: open by hand holds; reset closes', async () => {
  const opened = await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { body: { action: 'open' } });
  assert.equal(opened.status, 200);
  assert.equal(opened.body.state, 'open');
  assert.equal(opened.body.forced, true);
  const r = await infer('2');
  assert.equal(r.status, 503);
  assert.match(r.body.error!, /opened by hand/);
  const reset = await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { body: { action: 'reset' } });
  assert.equal(reset.body.state, 'closed');
  assert.equal((await infer('2')).status, 200);
  const bad = await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { body: { action: 'close' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /field 'action': expected "reset" or "open"/);
  const form = await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { rawBody: 'action=reset', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 415);
});

test('client errors never count against the breaker', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await infer('2', 1, { inputs: [] })).status, 400);
  const snap = await breakerOf('2');
  assert.equal(snap.state, 'closed');
  assert.equal(snap.consecutive_failures, 0);
});

test('queue policy under injected latency: full queue → 503 + Retry-After, deadline → 504', async () => {
  const v1 = async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models[0]!.versions[0]!.batching;
  await fault('1', { latency_ms: 400 });
  const running = infer('1', 0);
  await waitFor(async () => (await v1()).in_flight_batches === 1, 5000);
  const queued = [infer('1', 2), infer('1', 6)];
  await waitFor(async () => (await v1()).queue_depth === 2, 5000);
  const full = await infer('1', 4);
  assert.equal(full.status, 503);
  assert.equal(full.headers.get('retry-after'), '1');
  assert.match(full.body.error!, /the queue of digits\/1 is full \(2 requests\)/);
  assert.equal((await running).status, 200);
  const answers = await Promise.all(queued);
  assert.deepEqual(answers.map((a) => argmax(a.body.outputs[0]!.data as number[])), [2, 6]);

  const busy = infer('1', 0);
  await waitFor(async () => (await v1()).in_flight_batches === 1, 5000);
  // Triton's schedule policy: `timeout` is in microseconds (50,000 µs = 50 ms).
  const expired = await infer('1', 1, { parameters: { timeout: 50_000 } });
  assert.equal(expired.status, 504);
  assert.match(expired.body.error!, /waited in the queue of digits\/1 past its 50 ms deadline/);
  assert.equal((await busy).status, 200);
  await fault('1', null);
  assert.equal(await metric(/inferscope_queue_rejections_total\{model="digits",version="1",reason="queue_full"\} (\d+)/), 1);
  assert.equal(await metric(/inferscope_queue_rejections_total\{model="digits",version="1",reason="timeout"\} (\d+)/), 1);
  const bad = await infer('1', 1, { parameters: { timeout: -5 } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error!, /parameter 'timeout' must be microseconds from 0 \(none\) to 3600000000 \(as in Triton\)/);
  assert.equal((await infer('1', 1, { parameters: { timeout: 3e12 } })).status, 400);
});

test('deadlines a client sets on itself never open the breaker', async () => {
  await fault('1', { latency_ms: 300 });
  const busy = infer('1', 0);
  await waitFor(async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models[0]!.versions[0]!.batching.in_flight_batches === 1, 5000);
  // One after the other (the queue here holds 2): more than the 3 failures that would trip it.
  for (let i = 0; i < 4; i++) assert.equal((await infer('1', 1, { parameters: { timeout: 1000 } })).status, 504);
  assert.equal((await busy).status, 200);
  await fault('1', null);
  const snap = await breakerOf('1');
  assert.equal(snap.state, 'closed');
  assert.equal(snap.consecutive_failures, 0);
  assert.equal((await infer('1', 7)).status, 200);
});

test('event streams are capped; a client beyond the cap gets 503', async () => {
  const { MAX_SSE_CLIENTS } = await import('../../agent/src/server/sseHub.js');
  const extra: SseClient[] = [];
  try {
    for (let i = 1; i < MAX_SSE_CLIENTS; i++) extra.push(await SseClient.connect(`${agent.url}/api/v1/events`));
    await assert.rejects(SseClient.connect(`${agent.url}/api/v1/events`), /SSE status 503/);
  } finally {
    for (const c of extra) c.close();
  }
});

test('fault bodies are validated', async () => {
  const r = await fault('2', { error_rate: 2 });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /field 'error_rate': expected a rate from 0 to 1/);
  assert.equal((await fault('2', null)).status, 404);
});
