// The agent's predictions on every held-out MNIST digit match the accuracy recorded by the
// training script (which measured it with ONNX Runtime on the same files).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InferResponse } from '../../common/api.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
});

const { heldOut } = loadMnist();

for (const version of ['1', '2', '3']) {
  test(`digits/${version}: held-out accuracy over HTTP equals the recorded accuracy`, async () => {
    const recorded = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', version, 'training.json'), 'utf8')) as {
      held_out_accuracy: number;
      held_out_count: number;
    };
    assert.equal(recorded.held_out_count, heldOut.length);
    let correct = 0;
    const batch = 64;
    for (let start = 0; start < heldOut.length; start += batch) {
      const rows = heldOut.slice(start, start + batch);
      const r = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/${version}/infer`, {
        body: { inputs: [{ name: 'pixels', shape: [rows.length, 784], datatype: 'FP32', data: rows.flatMap((s) => Array.from(s.pixels)) }] },
      });
      assert.equal(r.status, 200);
      const probs = r.body.outputs[0]!.data as number[];
      rows.forEach((s, i) => {
        if (argmax(probs, i * 10, 10) === s.label) correct++;
      });
    }
    const accuracy = correct / heldOut.length;
    assert.ok(Math.abs(accuracy - recorded.held_out_accuracy) < 0.0006, `served ${accuracy}, recorded ${recorded.held_out_accuracy}`);
    assert.ok(accuracy > 0.9, `accuracy ${accuracy} is too low for a digit classifier`);
  });
}

test('version 2 is measurably more accurate than version 1', () => {
  const acc = (v: string) => (JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', v, 'training.json'), 'utf8')) as { held_out_accuracy: number }).held_out_accuracy;
  assert.ok(acc('2') - acc('1') > 0.01, `v1 ${acc('1')} vs v2 ${acc('2')}`);
});
