// The demo's embedded feature store: `{"parameters":{"entities":["digit-17"]}}` works out of the box.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent.stop();
});

const labels = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'features', 'labels.json'), 'utf8')) as Record<string, number>;

test('entity inference on the bundled model, with classification, predicts the held-out labels', async () => {
  const ids = Array.from({ length: 64 }, (_, i) => `digit-${i * 31}`);
  const r = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/2/infer`, {
    body: { parameters: { entities: ids }, outputs: [{ name: 'probs', parameters: { classification: 1 } }] },
  });
  assert.equal(r.status, 200);
  const predicted = (r.body.outputs[0]!.data as string[]).map((s) => Number(s.split(':')[1]));
  const correct = predicted.filter((p, i) => p === labels[ids[i]!]).length;
  assert.ok(correct >= 56, `${correct}/64 correct`);
  const again = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/2/infer`, { body: { parameters: { entities: ids.slice(0, 2) } } });
  assert.equal(argmax(again.body.outputs[0]!.data as number[], 0, 10), predicted[0]);
  const cache = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.caches.digits!;
  assert.equal(cache.source.kind, 'file');
  assert.equal(cache.hits, 2);
  assert.equal(cache.misses, 64);
});

test('entity request errors: both inputs and entities, bad ids, too many', async () => {
  const url = `${agent.url}/v2/models/digits/infer`;
  const both = await request(url, { body: { parameters: { entities: ['digit-1'] }, inputs: [] } });
  assert.equal(both.status, 400);
  assert.match(both.body.error, /either 'inputs' or parameters.entities, not both/);
  const bad = await request(url, { body: { parameters: { entities: [1] } } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /parameter 'entities' must be a string, number, boolean or list of strings/);
  const many = await request(url, { body: { parameters: { entities: Array.from({ length: 65 }, (_, i) => `digit-${i}`) } } });
  assert.equal(many.status, 400);
  assert.match(many.body.error, /65 entities exceed the 64 rows digits\/1 takes per request/);
});
