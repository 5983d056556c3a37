// Canaries end to end on the real agent with short intervals: a candidate with injected errors or
// latency is rolled back, abort returns traffic at once, an identical candidate is promoted, the
// promotion survives a restart, and an agent killed mid-canary rolls it back when it comes back.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentStatus, Canary, InferResponse } from '../../common/api.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { digitsRepo } from '../helpers/tempRepo.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { SseClient } from '../helpers/sseClient.js';

// Version 3 is version 1 again: an identical candidate.
const repo = digitsRepo(undefined, { twinOf1: '3' });
const state = mkdtempSync(join(tmpdir(), 'inferscope-canary-state-'));
let agent: AgentProcess;
const args = ['--models', repo, '--state-dir', state, '--enable-faults'];

before(async () => {
  agent = await startAgent({ args });
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
});

/** Unversioned traffic from a few concurrent clients until stopped. */
// Many distinct digits, not the 10 examples: with 10 inputs the versions' confidences are 10
// discrete values in proportions the random split decides, which can make an identical candidate
// look "less confident" by which digits it happened to get.
const DIGITS = loadMnist().heldOut.slice(0, 500).map((d) => ({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: Array.from(d.pixels) }] }));

function traffic(a: AgentProcess, clients = 6): { stop(): Promise<string[]> } {
  let running = true;
  const served: string[] = [];
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; running; i++) {
      const r = await request<InferResponse>(`${a.url}/v2/models/digits/infer`, { body: DIGITS[(c * 31 + i * 7) % DIGITS.length] }).catch(() => undefined);
      if (r?.status === 200) served.push(r.body.model_version);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return served;
    },
  };
}

const startCanary = (body: object) => request<Canary>(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', interval_s: 0.4, checks_per_step: 2, steps: [50, 100], thresholds: { min_samples: 30 }, ...body } });
const canary = async (id: string) => (await request<Canary>(`${agent.url}/api/v1/canaries/${id}`)).body;
const ended = (id: string) => waitFor(async () => (await canary(id)).state !== 'running', 30_000);
const fault = (v: string, body: object | null) => request(`${agent.url}/api/v1/faults/digits/${v}`, body ? { method: 'PUT', body } : { method: 'DELETE' });

test('a candidate failing 30% of requests is rolled back at the first step', async () => {
  await fault('2', { error_rate: 0.3 });
  const events = await SseClient.connect(`${agent.url}/api/v1/events`);
  const load = traffic(agent);
  const started = await startCanary({ candidate: '2' });
  assert.equal(started.status, 201);
  assert.deepEqual([started.body.state, started.body.weight, started.body.baseline], ['running', 50, '1']);
  assert.equal((await startCanary({ candidate: '3' })).status, 409);
  await ended(started.body.id);
  await load.stop();
  await fault('2', null);
  // 30% errors can also have tripped v2's breaker (30 s open): close it for the next test.
  await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { body: { action: 'reset' } });
  const c = await canary(started.body.id);
  assert.equal(c.state, 'rolled_back');
  assert.equal(c.checks.at(-1)!.step, 0);
  // 30% failures roll it back on its error rate, or, when five fail in a row before the first
  // check (likelier the more requests the check interval sees), on its breaker opening.
  assert.match(c.reason!, /^(error_rate: candidate error rate \d+(\.\d)?% (is above the 5\.0% limit|vs)|breaker: the candidate's circuit breaker opened)/);
  const rb = await events.next((m) => m.event === 'canary' && m.data.canary.state === 'rolled_back');
  assert.equal(rb.data.canary.id, c.id);
  events.close();
  const metrics = (await request<string>(`${agent.url}/metrics`)).body;
  assert.match(metrics, /inferscope_canary_decisions_total\{model="digits",decision="rollback"\} 1/);
  const failedOn = c.reason!.startsWith('breaker') ? 'breaker' : 'error_rate';
  assert.match(metrics, new RegExp(`inferscope_canary_metric_verdicts_total\\{model="digits",metric="${failedOn}",verdict="fail"\\} 1`));
  assert.match(metrics, /inferscope_canary_weight_ratio\{model="digits",version="2"\} 0/);
});

test('a candidate 50 ms slower is rolled back on latency', async () => {
  await fault('2', { latency_ms: 50 });
  const load = traffic(agent);
  const started = await startCanary({ candidate: '2' });
  await ended(started.body.id);
  await load.stop();
  await fault('2', null);
  const c = await canary(started.body.id);
  assert.equal(c.state, 'rolled_back');
  assert.match(c.reason!, /latency: candidate is slower: P\(slower\)=/);
  const latency = c.checks.at(-1)!.metrics.find((m) => m.name === 'latency')!;
  assert.ok(latency.candidate! > latency.baseline!, JSON.stringify(latency));
});

test('abort returns all traffic to the baseline at once', async () => {
  const started = await startCanary({ candidate: '2', interval_s: 60 });
  const split = traffic(agent, 4);
  await waitFor(async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.canaries.some((c) => c.id === started.body.id), 5000);
  const aborted = await request<Canary>(`${agent.url}/api/v1/canaries/${started.body.id}`, { method: 'DELETE' });
  assert.equal(aborted.body.state, 'aborted');
  const during = await split.stop();
  assert.ok(during.includes('2') || during.length < 20, 'the split was in effect');
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(i % 10) })));
  assert.deepEqual(new Set(answers.map((a) => a.body.model_version)), new Set(['1']));
  assert.equal((await request(`${agent.url}/api/v1/canaries/${started.body.id}`, { method: 'DELETE' })).status, 409);
});

test('an identical candidate is promoted and becomes the default, which survives a restart', async () => {
  const load = traffic(agent);
  const started = await startCanary({ candidate: '3' });
  await ended(started.body.id);
  await load.stop();
  const c = await canary(started.body.id);
  assert.equal(c.state, 'promoted', `${c.reason}\n${JSON.stringify(c.checks.map((k) => k.metrics.filter((m) => m.verdict !== 'pass')))}`);
  assert.deepEqual(c.checks.map((k) => k.weight).filter((w, i, all) => all.indexOf(w) === i), [50, 100]);
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(1) })).body.model_version, '3');

  await agent.stop();
  agent = await startAgent({ args });
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.equal(status.models[0]!.default_version, '3');
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(2) })).body.model_version, '3');
});

test('an agent killed mid-canary rolls the canary back when it comes back', async () => {
  const started = await startCanary({ candidate: '1', interval_s: 60 });
  assert.equal(started.status, 201);
  assert.equal(started.body.baseline, '3');
  // The state file follows within about a second (written off the request path): kill after that.
  await waitFor(() => readFileSync(join(state, 'canaries.json'), 'utf8').includes(started.body.id), 5000);
  await agent.stop('SIGKILL');
  agent = await startAgent({ args });
  const c = await canary(started.body.id);
  assert.equal(c.state, 'rolled_back');
  assert.match(c.reason!, /the agent restarted during the canary/);
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(i % 10) })));
  assert.deepEqual(new Set(answers.map((a) => a.body.model_version)), new Set(['3']));
});

test('canary requests are validated', async () => {
  const bad = await startCanary({ candidate: '9' });
  assert.equal(bad.status, 404);
  const notDefault = await startCanary({ baseline: '2', candidate: '1' });
  assert.equal(notDefault.status, 400);
  assert.match((notDefault.body as unknown as { error: string }).error, /baseline must be digits's default version \(3\)/);
  const steps = await startCanary({ candidate: '1', steps: [80, 20] });
  assert.equal(steps.status, 400);
  assert.match((steps.body as unknown as { error: string }).error, /expected increasing weights/);
});
