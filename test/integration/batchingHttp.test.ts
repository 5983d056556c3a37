// 1,000 concurrent requests through HTTP, each with its own digit: each answer is the model's
// output for that digit alone (checked against ONNX Runtime run directly in this process), and
// the metrics show that batches formed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { InferResponse } from '../../common/api.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
});

test('1,000 concurrent requests each get the prediction for their own input', async () => {
  const samples = loadMnist().heldOut.slice(0, 1000);
  const session = await ort.InferenceSession.create(join(BUNDLED_MODELS, 'digits', '2', 'model.onnx'));
  const all = new Float32Array(samples.length * 784);
  samples.forEach((s, i) => all.set(s.pixels, i * 784));
  const reference = (await session.run({ pixels: new ort.Tensor('float32', all, [samples.length, 784]) })).probs!.data as Float32Array;
  await session.release();

  const answers = await Promise.all(
    samples.map((s, i) =>
      request<InferResponse>(`${agent.url}/v2/models/digits/versions/2/infer`, {
        body: { id: `r${i}`, inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: Array.from(s.pixels) }] },
      }),
    ),
  );
  answers.forEach((a, i) => {
    assert.equal(a.status, 200);
    assert.equal(a.body.id, `r${i}`);
    const got = a.body.outputs[0]!.data as number[];
    for (let j = 0; j < 10; j++) assert.ok(Math.abs(got[j]! - reference[i * 10 + j]!) < 1e-5, `request ${i}`);
  });

  const metrics = (await request<string>(`${agent.url}/metrics`)).body;
  const value = (name: string) => Number(new RegExp(`${name}\\{model="digits",version="2"\\} (\\d+)`).exec(metrics)?.[1]);
  const rows = value('inferscope_inference_count_total');
  const execs = value('inferscope_inference_exec_count_total');
  assert.equal(rows, 1000);
  assert.ok(execs < rows, `batches formed: ${rows} rows in ${execs} executions`);
  assert.match(metrics, /inferscope_batch_size_bucket\{le="1",model="digits",version="2"\} \d+/);
  assert.match(metrics, /inferscope_pending_requests\{model="digits",version="2"\} 0/);

  const status = (await request(`${agent.url}/api/v1/status`)).body;
  const v2 = status.models[0].versions.find((v: { version: string }) => v.version === '2');
  assert.equal(v2.batching.max_batch_size, 64);
  assert.equal(v2.batching.queue_depth, 0);
  assert.ok(v2.batching.recent_batch_sizes.some((n: number) => n > 1));
});
