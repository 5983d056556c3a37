// Open-loop overload (10× capacity, a few seconds): the queue stays at max_queue_size, the excess
// gets 503 + Retry-After, nothing else goes wrong, and the agent serves normally afterwards.
// (Figures for 30 s: npm run bench:overload, recorded in bench/README.md.)
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { openLoop } from '../../bench/lib/openLoop.js';
import { BUNDLED_MODELS, startAgent } from '../helpers/agentProcess.js';
import { argmax, request } from '../helpers/http.js';
import { slowDigitsRepo } from '../helpers/tempRepo.js';

test('10× overload: bounded queue, fast 503s with Retry-After, recovery', { timeout: 120_000 }, async () => {
  const repo = slowDigitsRepo(32, 0);
  const agent = await startAgent({ args: ['--models', repo, '--enable-faults'] });
  try {
    // 8 rows per 100 ms (two batches in flight at most): about 160 req/s. Offer ~10×.
    await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'PUT', body: { latency_ms: 100 } });
    const body = readFileSync(join(BUNDLED_MODELS, 'digits', 'examples', 'digit-3.json'), 'utf8');
    let maxQueue = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
        maxQueue = Math.max(maxQueue, s.models[0]!.versions[0]!.batching.queue_depth);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const answers = await openLoop({ port: agent.port, path: '/v2/models/digits/versions/1/infer', body, ratePerS: 1500, seconds: 4 });
    polling = false;
    await poller;
    const statuses = new Set(answers.map((a) => a.status));
    assert.deepEqual([...statuses].sort(), [200, 503]);
    const rejected = answers.filter((a) => a.status === 503);
    assert.ok(rejected.length > answers.length / 2, `${rejected.length} of ${answers.length} rejected`);
    assert.ok(rejected.every((a) => a.retryAfter === '1'));
    assert.ok(maxQueue <= 32, `queue reached ${maxQueue}`);
    const metrics = (await request<string>(`${agent.url}/metrics`)).body;
    assert.match(metrics, new RegExp(`inferscope_queue_rejections_total\\{model="digits",version="1",reason="queue_full"\\} ${rejected.length}`));
    await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'DELETE' });
    const after = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/1/infer`, { rawBody: body, headers: { 'content-type': 'application/json' } });
    assert.equal(after.status, 200);
    assert.equal(argmax(after.body.outputs[0]!.data as number[]), 3);
  } finally {
    await agent.stop();
    rmSync(repo, { recursive: true, force: true });
  }
});
