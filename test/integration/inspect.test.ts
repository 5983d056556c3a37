// GET /api/v1/models/{m}/versions/{v}/inspect against the real agent and the real demo models:
// the ONNX summary, the file, and the effective serving configuration; 404 for unknown versions,
// 401 without the token.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModelInspection } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';

const agents: AgentProcess[] = [];
after(async () => {
  for (const a of agents) await a.stop();
});

test('inspect answers the ONNX summary, file size and effective config of a loaded version', async () => {
  const agent = await startAgent({ args: ['--models', BUNDLED_MODELS], env: { INFERSCOPE_TOKEN: 'inspect-test-token-0123456789' } });
  agents.push(agent);
  const auth = { authorization: 'Bearer inspect-test-token-0123456789' };
  const r = await request<ModelInspection>(`${agent.url}/api/v1/models/digits/versions/2/inspect`, { headers: auth });
  assert.equal(r.status, 200);
  const i = r.body;
  assert.equal(i.model, 'digits');
  assert.equal(i.version, '2');
  assert.equal(i.file, 'digits/2/model.onnx');
  assert.equal(i.file_bytes, statSync(join(BUNDLED_MODELS, 'digits', '2', 'model.onnx')).size);
  assert.deepEqual(i.onnx.opsets, [{ domain: 'ai.onnx', version: 17 }]);
  assert.equal(i.onnx.producer_name, 'inferscope-train');
  assert.ok(i.onnx.parameters > 784 * 10, `${i.onnx.parameters} parameters`);
  assert.ok(i.onnx.operators.MatMul! >= 2, JSON.stringify(i.onnx.operators));
  assert.deepEqual(i.inputs.map((t) => t.name), ['pixels']);
  assert.equal(i.provider, 'cpu');
  assert.equal(i.instances, 1);
  assert.equal(i.config.max_batch_size, 64);
  assert.equal(i.config.dynamic_batching?.max_queue_size, 1024);
  // No breaker block in config.json: the defaults the breaker runs with.
  assert.equal(i.config.breaker.consecutive_failures, 5);

  const unknown = await request<{ error: string }>(`${agent.url}/api/v1/models/digits/versions/9/inspect`, { headers: auth });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error, /9/);
  const noToken = await request(`${agent.url}/api/v1/models/digits/versions/1/inspect`);
  assert.equal(noToken.status, 401);
});
