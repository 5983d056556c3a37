// Entity inference through a real redis-server: two agents share one Redis, updates show after the
// TTL, Redis stopping mid-run gives clear 503s for uncached keys while cached keys keep serving,
// and service recovers when Redis comes back. Also the embedded file store of the demo.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { encodeVector } from '../../agent/src/features/redisFeatureSource.js';
import { loadIntoRedis, readDemoFeatures } from '../../scripts/lib/demoFeatures.js';
import { digitsRepo } from '../helpers/tempRepo.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import { RedisServer } from '../helpers/redisServer.js';
import { requireBinary } from '../helpers/systemBinary.js';

const redisBin = requireBinary('redis-server', 'redis-server');
const skip = 'skip' in redisBin ? redisBin.skip : false;
const features = readDemoFeatures(join(BUNDLED_MODELS, 'digits', 'features'));
const labels = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'features', 'labels.json'), 'utf8')) as Record<string, number>;
const PREFIX = 'test:digits:';

let redis: RedisServer;
let agents: AgentProcess[] = [];
let repo: string | undefined;

before(async () => {
  if (skip) return;
  redis = await RedisServer.start((redisBin as { path: string }).path);
  await loadIntoRedis(redis.url, PREFIX, features);
  repo = digitsRepo((config) => {
    config.features = { source: 'redis', url: redis.url, key_prefix: PREFIX, timeout_ms: 300, ttl_ms: 400, negative_ttl_ms: 100, stale_ms: 0 };
  });
  agents = [await startAgent({ args: ['--models', repo] }), await startAgent({ args: ['--models', repo] })];
});
after(async () => {
  for (const a of agents) await a.stop();
  await redis?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

const byEntities = (agent: AgentProcess, entities: string[], version = '2') =>
  request<InferResponse & { error?: string }>(`${agent.url}/v2/models/digits/versions/${version}/infer`, { body: { parameters: { entities } } });
const predicted = (r: { body: InferResponse }, row = 0) => argmax(r.body.outputs[0]!.data as number[], row * 10, 10);

test('entity inference through Redis: one row per entity, in order, the same in both agents', { skip }, async () => {
  const ids = ['digit-3', 'digit-400', 'digit-1999', 'digit-1200'].filter((id) => features.has(id));
  for (const agent of agents) {
    const r = await byEntities(agent, ids);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // Response parameters hold scalars only (the protocol's rule): rows follow the request's entities.
    assert.equal(r.body.parameters, undefined);
    assert.deepEqual(r.body.outputs[0]!.shape, [ids.length, 10]);
    // Same answer as sending the pixels themselves.
    const direct = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/2/infer`, {
      body: { inputs: [{ name: 'pixels', shape: [ids.length, 784], datatype: 'FP32', data: ids.flatMap((id) => Array.from(features.get(id)!)) }] },
    });
    assert.deepEqual(r.body.outputs[0]!.data, direct.body.outputs[0]!.data);
    // digit-3 … are held-out digits: v2 gets these right.
    assert.deepEqual(ids.map((_, i) => predicted(r, i)), ids.map((id) => labels[id]));
  }
});

test('an update in Redis becomes visible after the TTL', { skip }, async () => {
  const client = new Redis(redis.url);
  try {
    const seven = features.get('digit-5')!;
    const one = Array.from(exampleRequest(1).inputs[0]!.data as number[]);
    await client.set(`${PREFIX}swap`, encodeVector(seven));
    const before = await byEntities(agents[0]!, ['swap']);
    assert.equal(before.status, 200);
    const first = predicted(before);
    await client.set(`${PREFIX}swap`, encodeVector(one));
    assert.equal(predicted(await byEntities(agents[0]!, ['swap'])), first, 'cached within the TTL');
    await waitFor(async () => predicted(await byEntities(agents[0]!, ['swap'])) === 1, 5000);
    // The other agent, which never cached the old vector, sees the new one at once.
    assert.equal(predicted(await byEntities(agents[1]!, ['swap'])), 1);
  } finally {
    client.disconnect();
  }
});

test('unknown entities are 404s naming them; a wrong vector length is a 500 naming the entity', { skip }, async () => {
  const r = await byEntities(agents[0]!, ['digit-1', 'no-such-digit']);
  assert.equal(r.status, 404);
  assert.match(r.body.error!, /no features for entity "no-such-digit" in redis:\/\/127\.0\.0\.1:\d+\/test:digits:\*/);
  const client = new Redis(redis.url);
  await client.set(`${PREFIX}short`, encodeVector([1, 2, 3]));
  client.disconnect();
  const bad = await byEntities(agents[0]!, ['short']);
  assert.equal(bad.status, 500);
  assert.match(bad.body.error!, /holds 3 values for entity "short", but digits\/2 input 'pixels' needs 784/);
});

test('Redis down: cached keys keep serving, uncached ones get a fast 503 naming the source; recovery after restart', { skip }, async () => {
  const agent = agents[1]!;
  assert.equal((await byEntities(agent, ['digit-10'])).status, 200); // cache it (TTL 400 ms)
  await redis.stop();
  const cached = await byEntities(agent, ['digit-10']);
  assert.equal(cached.status, 200, 'served from the cache while Redis is down');
  const started = Date.now();
  const down = await byEntities(agent, ['digit-11']);
  assert.equal(down.status, 503);
  assert.ok(down.headers.get('retry-after'));
  assert.match(down.body.error!, /feature source redis:\/\/127\.0\.0\.1:\d+\/test:digits:\* for digits is unavailable/);
  assert.ok(Date.now() - started < 2000, 'fails fast');
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.equal(status.caches.digits!.source.healthy, false);
  // Plain inputs do not need the feature store.
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(4) })).status, 200);

  await redis.start();
  await loadIntoRedis(redis.url, PREFIX, new Map([['digit-11', features.get('digit-11')!]]));
  await waitFor(async () => (await byEntities(agent, ['digit-11'])).status === 200, 10_000);
  const metrics = (await request<string>(`${agent.url}/metrics`)).body;
  assert.match(metrics, /inferscope_feature_source_errors_total\{model="digits",source="redis"\} [1-9]/);
  assert.match(metrics, /inferscope_feature_source_fetch_duration_seconds_count\{model="digits",source="redis"\} [1-9]/);
});

test('DELETE /api/v1/cache invalidates (all, or one model)', { skip }, async () => {
  const agent = agents[0]!;
  await byEntities(agent, ['digit-20', 'digit-21']);
  const one = await request(`${agent.url}/api/v1/cache?model=digits`, { method: 'DELETE' });
  assert.equal(one.status, 200);
  assert.ok(one.body.cleared >= 2);
  assert.equal((await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.caches.digits!.entries, 0);
  assert.equal((await request(`${agent.url}/api/v1/cache?model=nope`, { method: 'DELETE' })).status, 404);
});
