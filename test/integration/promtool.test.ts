// The agent's /metrics passes Prometheus' own linter (real promtool, not a parser of ours).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { startAgent } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { requireBinary } from '../helpers/systemBinary.js';

const promtool = requireBinary('promtool', 'prometheus');

test('promtool check metrics accepts the exposition after traffic', { skip: 'skip' in promtool ? promtool.skip : false }, async () => {
  const agent = await startAgent();
  try {
    await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(1) });
    await request(`${agent.url}/v2/models/digits/versions/2/infer`, { body: { inputs: [] } });
    const text = (await request<string>(`${agent.url}/metrics`)).body;
    assert.match(text, /inferscope_inference_requests_total/);
    const r = spawnSync((promtool as { path: string }).path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout + r.stderr, '', 'promtool reports no lint problems');
  } finally {
    await agent.stop();
  }
});
