// The demo can promote (issue 21): the bundled digits version 3 (version 1's architecture retrained
// with another seed: as fast, at least as accurate) is promoted by a canary 1 → 3 under traffic, on
// the real agent with the bundled models and the default (anytime) method; every check carries its
// ledger, and the recorded evidence can be judged again at another alpha through the API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Canary, CanaryRejudgement, InferResponse } from '../../common/api.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';
import { digitsRepo } from '../helpers/tempRepo.js';

const repo = digitsRepo();
const state = mkdtempSync(join(tmpdir(), 'inferscope-canary-demo-'));
let agent: AgentProcess;

before(async () => {
  agent = await startAgent({ args: ['--models', repo, '--state-dir', state] });
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
});

const DIGITS = loadMnist().heldOut.slice(0, 500).map((d) => ({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: Array.from(d.pixels) }] }));

function traffic(a: AgentProcess, clients = 6): { stop(): Promise<void> } {
  let running = true;
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; running; i++) await request<InferResponse>(`${a.url}/v2/models/digits/infer`, { body: DIGITS[(c * 31 + i * 7) % DIGITS.length] }).catch(() => undefined);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const canary = async (id: string) => (await request<Canary>(`${agent.url}/api/v1/canaries/${id}`)).body;

async function runCanary(candidate: string): Promise<Canary> {
  const load = traffic(agent);
  const started = await request<Canary>(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', candidate, interval_s: 0.5, checks_per_step: 2, steps: [50, 100], thresholds: { min_samples: 30 } } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  assert.equal(started.body.method, 'anytime');
  await waitFor(async () => (await canary(started.body.id)).state !== 'running', 60_000);
  await load.stop();
  return canary(started.body.id);
}

test('version 3 is the honest candidate: same architecture as version 1, at least as accurate', () => {
  const training = (v: string) => JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', v, 'training.json'), 'utf8'));
  assert.equal(training('3').architecture.startsWith(training('1').architecture), true);
  assert.deepEqual(training('3').training.sizes, training('1').training.sizes);
  assert.ok(training('3').held_out_accuracy >= training('1').held_out_accuracy);
});

test('a canary 1 → 3 with traffic promotes version 3; its ledger can be judged again at another alpha', async () => {
  const c = await runCanary('3');
  assert.equal(c.state, 'promoted', `${c.reason}\n${JSON.stringify(c.checks.map((k) => k.metrics.filter((m) => m.verdict !== 'pass').map((m) => m.reason)))}`);
  assert.equal((await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: DIGITS[0] })).body.model_version, '3');
  // Every compared metric of every check has its ledger row, with what it could have seen.
  const first = c.checks[0]!;
  for (const name of ['error_rate', 'latency', 'predictions', 'confidence'] as const) {
    const ev = first.metrics.find((m) => m.name === name)!.evidence!;
    assert.equal(ev.gate, 'ok', `${name}: ${JSON.stringify(ev)}`);
    assert.ok(ev.tests.every((t) => t.e_value !== null && t.p_value > 0 && t.alpha > 0), name);
    assert.match(ev.mde!.text, /^can detect /, name);
    assert.ok(ev.eta!.requests_per_s > 0, name);
  }
  // Stricter: every check passes all the more, so the same promotion at the same check.
  const strict = (await request<CanaryRejudgement>(`${agent.url}/api/v1/canaries/${c.id}/rejudge?alpha=0.001`)).body;
  assert.deepEqual([strict.decision, strict.at_check, strict.alpha, strict.method], ['promote', c.checks.length, 0.001, 'anytime']);
  const own = (await request<CanaryRejudgement>(`${agent.url}/api/v1/canaries/${c.id}/rejudge`)).body;
  assert.deepEqual([own.decision, own.reason], ['promote', c.reason]);
  const bad = await request<{ error: string }>(`${agent.url}/api/v1/canaries/${c.id}/rejudge?alpha=2`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /a number in \(0, 0\.5\]/);
});
