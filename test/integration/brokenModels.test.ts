// One broken model does not stop the others: it is reported as failed with its reason in the
// repository index, the status API and the log, and readiness says not ready.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';

const repo = mkdtempSync(join(tmpdir(), 'inferscope-broken-'));
let agent: AgentProcess;

before(async () => {
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  // A config with a typo.
  mkdirSync(join(repo, 'typo', '1'), { recursive: true });
  writeFileSync(join(repo, 'typo', 'config.json'), JSON.stringify({ max_batch_sise: 8 }));
  cpSync(join(BUNDLED_MODELS, 'digits', '1', 'model.onnx'), join(repo, 'typo', '1', 'model.onnx'));
  // A model file that is not ONNX.
  mkdirSync(join(repo, 'garbage', '1'), { recursive: true });
  writeFileSync(join(repo, 'garbage', 'config.json'), '{}');
  writeFileSync(join(repo, 'garbage', '1', 'model.onnx'), 'this is not a model');
  // Labels that do not fit the model's outputs are caught at load.
  cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, 'badlabels', '1'), { recursive: true });
  writeFileSync(join(repo, 'badlabels', 'config.json'), JSON.stringify({ max_batch_size: 8, labels: ['a', 'b'] }));
  agent = await startAgent({ args: ['--models', repo], waitReady: false });
  await waitFor(async () => /models loaded with failures/.test(agent.stderr()), 20_000, () => agent.stderr());
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

test('readiness is 503 while a model failed (strict, as Triton), liveness is 200; the status says loading is over', async () => {
  assert.deepEqual((await request(`${agent.url}/v2/health/ready`)).body, { ready: false });
  assert.equal((await request(`${agent.url}/v2/health/ready`)).status, 503);
  assert.equal((await request(`${agent.url}/v2/health/live`)).status, 200);
  // What a supervisor (the extension) waits for: every model settled, the good ones serving.
  const { agent: info } = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.deepEqual([info.ready, info.loaded], [false, true]);
});

test('the repository index reports each failure with its reason', async () => {
  const index = (await request(`${agent.url}/v2/repository/index`, { method: 'POST' })).body as { name: string; state: string; reason?: string }[];
  const byName = (name: string) => index.find((e) => e.name === name)!;
  assert.equal(byName('digits').state, 'READY');
  assert.equal(byName('typo').state, 'UNAVAILABLE');
  assert.match(byName('typo').reason!, /typo\/config\.json: unknown field 'max_batch_sise'/);
  assert.equal(byName('garbage').state, 'UNAVAILABLE');
  assert.match(byName('garbage').reason!, /no execution provider could load .*garbage\/1\/model\.onnx/);
  assert.match(byName('badlabels').reason!, /lists 2 labels, but no output has 2 classes/);
});

test('the status API and the log carry the same reasons', async () => {
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.equal(status.agent.ready, false);
  const typo = status.models.find((m) => m.name === 'typo')!;
  assert.match(typo.error!, /unknown field 'max_batch_sise'/);
  const garbage = status.models.find((m) => m.name === 'garbage')!;
  assert.equal(garbage.versions[0]!.state, 'failed');
  assert.match(agent.stderr(), /ERROR model failed to load model=typo/);
  assert.match(agent.stderr(), /ERROR model version failed to load model=garbage\/1/);
});

test('a failed model answers 503 with its reason; the healthy one keeps serving', async () => {
  const r = await request(`${agent.url}/v2/models/garbage/infer`, { body: exampleRequest(1) });
  assert.equal(r.status, 503);
  assert.match(r.body.error, /model garbage\/1 is not available: no execution provider could load/);
  const ok = await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(6) });
  assert.equal(ok.status, 200);
  assert.equal(argmax(ok.body.outputs[0]!.data as number[]), 6);
});
