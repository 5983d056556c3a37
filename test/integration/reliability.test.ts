// Faults and limits on the real agent: a real model that throws for some inputs fails only those
// requests (the batch is bisected); request limits each answer a clear 4xx.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InferResponse } from '../../common/api.js';
import { writeGatherModel } from '../fixtures/gatherModel.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';

const repo = mkdtempSync(join(tmpdir(), 'inferscope-reliability-'));
let agent: AgentProcess;
before(async () => {
  writeGatherModel(join(repo, 'lookup'));
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  const config = join(repo, 'agent.json');
  writeFileSync(config, JSON.stringify({ max_inputs: 2, max_elements_per_input: 100 }));
  agent = await startAgent({ args: ['--models', repo, '--config', config] });
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

const lookup = (i: number | string) =>
  request<InferResponse & { error?: string }>(`${agent.url}/v2/models/lookup/infer`, { body: { inputs: [{ name: 'idx', shape: [1], datatype: 'INT64', data: [i] }] } });

test('a model that throws for some inputs fails only those requests, even inside one batch', async () => {
  const indices = [0, 1, 2, 42, 3, 4, -1, 5, 99, 6];
  const answers = await Promise.all(indices.map(lookup));
  answers.forEach((a, k) => {
    const i = indices[k]!;
    if (i >= -10 && i < 10) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      const row = i < 0 ? 10 + i : i;
      assert.deepEqual(a.body.outputs[0]!.data, [row, 10 * row]);
    } else {
      assert.equal(a.status, 500);
      assert.match(a.body.error!, /^lookup\/1 failed to run: .*(out of|bounds|range)/i);
    }
  });
  const metrics = (await request<string>(`${agent.url}/metrics`)).body;
  const execs = Number(/inferscope_inference_exec_count_total\{model="lookup",version="1"\} (\d+)/.exec(metrics)![1]);
  const batches = Number(/inferscope_batch_size_count\{model="lookup",version="1"\} (\d+)/.exec(metrics)![1]);
  assert.ok(execs < indices.length, `requests were batched (${execs} successful executions for ${indices.length} requests)`);
  assert.equal(batches, execs);
  assert.equal((await lookup(7)).status, 200, 'the model keeps serving');
});

test('request limits: number of inputs, elements per input, parameters — each a clear 400', async () => {
  const url = `${agent.url}/v2/models/lookup/infer`;
  const input = { name: 'idx', shape: [1], datatype: 'INT64', data: [1] };
  const tooMany = await request(url, { body: { inputs: [input, input, input] } });
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.body.error, /too many inputs \(3\); at most 2 are accepted/);
  const big = await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(4) });
  assert.equal(big.status, 400);
  assert.match(big.body.error, /input 'pixels' has 784 elements; at most 100 are accepted per input/);
  const params = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, i]));
  const manyParams = await request(url, { body: { parameters: params, inputs: [input] } });
  assert.equal(manyParams.status, 400);
  assert.match(manyParams.body.error, /has 40 parameters; at most 32 are accepted/);
  const longParam = await request(url, { body: { parameters: { note: 'x'.repeat(5000) }, inputs: [input] } });
  assert.equal(longParam.status, 400);
  assert.match(longParam.body.error, /parameter 'note' is longer than 4096 characters/);
  const wrongModel = await request(`${agent.url}/v2/models/lookup/infer`, { body: exampleRequest(1) });
  assert.equal(wrongModel.status, 400);
  assert.match(wrongModel.body.error, /lookup\/1 has no input 'pixels'; its inputs are: idx INT64 \[-1\]/);
});
