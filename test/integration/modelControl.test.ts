// Triton's explicit model control against the real agent under real traffic: a load re-reads the
// model from disk and swaps the changed versions in without failing a request; unload drains
// first; a failed load changes nothing; a running canary blocks unload; --repository-poll-s
// reloads what changed on disk.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentStatus, InferResponse, RepositoryIndexEntry } from '../../common/api.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import { digitsRepo, digitsVersions } from '../helpers/tempRepo.js';

const agents: AgentProcess[] = [];
after(async () => {
  for (const a of agents) await a.stop();
});

const seven = exampleRequest(7);
const editConfig = (repo: string, edit: (c: Record<string, any>) => void) => {
  const file = join(repo, 'digits', 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  edit(config);
  writeFileSync(file, JSON.stringify(config));
};
const index = async (agent: AgentProcess) => (await request<RepositoryIndexEntry[]>(`${agent.url}/v2/repository/index`, { method: 'POST' })).body;

/** `clients` loops sending unversioned requests until stopped; counts answers by status. */
function traffic(agent: AgentProcess, clients: number) {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      sent++;
      const r = await request<InferResponse & { error?: string }>(`${agent.url}/v2/models/digits/infer`, { body: seven }).catch((e: Error) => ({ status: 0, body: { error: e.message } }) as never);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status !== 200) failures.push(`${r.status} ${r.body.error}`);
      else if (argmax(r.body.outputs[0]!.data as number[]) !== 7) failures.push(`wrong answer from version ${r.body.model_version}`);
    }
  });
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return { statuses: Object.fromEntries(statuses), failures };
    },
  };
}

test('20 reloads under 32 clients, each with a changed config and a new version: zero failed requests, the new config in force, the index right', async () => {
  const repo = digitsRepo();
  const agent = await startAgent({ args: ['--models', repo] });
  agents.push(agent);
  const load = traffic(agent, 32);
  await waitFor(async () => load.sent > 100, 10_000);
  for (let i = 1; i <= 20; i++) {
    // Versions 1 and 2 stay; each round adds a version and removes the one the round before added.
    const version = String(2 + i);
    cpSync(join(repo, 'digits', String(1 + (i % 2))), join(repo, 'digits', version), { recursive: true });
    if (i > 1) rmSync(join(repo, 'digits', String(1 + i)), { recursive: true });
    editConfig(repo, (c) => {
      c.dynamic_batching.max_queue_delay_ms = i % 3;
      c.dynamic_batching.preferred_batch_size = [i % 8 + 1];
    });
    const r = await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST', body: {} });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const config = (await request(`${agent.url}/v2/models/digits/config`)).body;
    assert.equal(config.dynamic_batching.max_queue_delay_microseconds, (i % 3) * 1000);
    assert.deepEqual(config.dynamic_batching.preferred_batch_size, [i % 8 + 1]);
    const entries = await index(agent);
    assert.deepEqual(entries.filter((e) => e.state === 'READY').map((e) => e.version), ['1', '2', version]);
    assert.ok(entries.filter((e) => e.state !== 'READY').every((e) => e.state === 'UNAVAILABLE' && e.reason === 'its folder was removed from the repository'), JSON.stringify(entries));
    const answered = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/${version}/infer`, { body: seven });
    assert.equal(answered.status, 200);
  }
  const { statuses, failures } = await load.stop();
  assert.deepEqual(failures.slice(0, 5), [], JSON.stringify(statuses));
  assert.ok((statuses[200] ?? 0) > 500, JSON.stringify(statuses));
  // Replaced versions were closed once their requests were done: one instance per live version.
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.deepEqual(status.models[0]!.versions.filter((v) => v.instances > 0).map((v) => [v.version, v.instances]), [['1', 1], ['2', 1], ['22', 1]]);
  assert.doesNotMatch(agent.stderr(), /ERROR/);
});

test('a load that fails leaves the serving versions untouched and says why; unload drains, then unloads; load brings it back', async () => {
  const repo = digitsRepo();
  const agent = await startAgent({ args: ['--models', repo, '--enable-faults'] });
  agents.push(agent);
  editConfig(repo, (c) => (c.max_batch_sise = 8));
  const bad = await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST', body: {} });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /failed to load digits: .*config\.json: .*max_batch_sise.*; the versions already loaded keep serving/);
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: seven })).status, 200);
  assert.deepEqual((await index(agent)).map((e) => e.state), digitsVersions().map(() => 'READY'));
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  assert.match(status.models[0]!.last_load_error!, /max_batch_sise/);
  // A config given in the request (Triton's `config` parameter) wins over the file.
  const good = JSON.parse(readFileSync(join(repo, 'digits', 'config.json'), 'utf8'));
  delete good.max_batch_sise;
  good.max_batch_size = 16;
  const withConfig = await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST', body: { parameters: { config: JSON.stringify(good) } } });
  assert.equal(withConfig.status, 200, JSON.stringify(withConfig.body));
  assert.equal((await request(`${agent.url}/v2/models/digits/config`)).body.max_batch_size, 16);
  assert.equal((await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST', body: { parameters: { 'file:1/model.onnx': 'AAAA' } } })).status, 400);

  // Unload with requests in flight: they finish, later ones are refused, the index says why.
  await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'PUT', body: { latency_ms: 400 } });
  const batching = async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models[0]!.versions[0]!.batching;
  const send = () => request<InferResponse>(`${agent.url}/v2/models/digits/versions/1/infer`, { body: seven });
  const inFlight = [send()];
  await waitFor(async () => (await batching()).in_flight_batches === 1, 5000);
  inFlight.push(send(), send(), send());
  await waitFor(async () => (await batching()).queue_depth === 3, 5000);
  const unloading = request(`${agent.url}/v2/repository/models/digits/unload`, { method: 'POST', body: { parameters: { unload_dependents: false } } });
  for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
  assert.equal((await unloading).status, 200);
  const refused = await request(`${agent.url}/v2/models/digits/infer`, { body: seven });
  assert.equal(refused.status, 404);
  assert.deepEqual(
    (await index(agent)).map((e) => [e.state, e.reason]),
    digitsVersions().map(() => ['UNAVAILABLE', 'unloaded by request']),
  );
  // Readiness counts the models that should serve: an unloaded model does not make the agent unready.
  assert.equal((await request(`${agent.url}/v2/health/ready`)).status, 200);
  // A plain load reads config.json again, which is still the broken one; mended, it loads.
  assert.equal((await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST' })).status, 400);
  writeFileSync(join(repo, 'digits', 'config.json'), JSON.stringify(good));
  assert.equal((await request(`${agent.url}/v2/repository/models/digits/load`, { method: 'POST' })).status, 200);
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: seven })).status, 200);
});

test('a running canary blocks unload (409); a reserved model name is refused with its reason', async () => {
  const repo = digitsRepo();
  cpSync(join(repo, 'digits'), join(repo, 'stats'), { recursive: true });
  editConfig(repo, () => undefined);
  writeFileSync(join(repo, 'stats', 'config.json'), readFileSync(join(repo, 'digits', 'config.json'), 'utf8').replace('"name":"digits"', '"name":"stats"'));
  const agent = await startAgent({ args: ['--models', repo], waitReady: false });
  agents.push(agent);
  // Every digits version, not the first: the canary needs its candidate (version 2) loaded, and the
  // versions load one after another.
  await waitFor(async () => {
    const digits = (await index(agent)).filter((e) => e.name === 'digits');
    return digits.length === digitsVersions().length && digits.every((e) => e.state === 'READY');
  }, 20_000);
  const reserved = (await index(agent)).find((e) => e.name === 'stats')!;
  assert.equal(reserved.state, 'UNAVAILABLE');
  assert.match(reserved.reason!, /the model name "stats" is reserved/);
  const canary = await request(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', baseline: '1', candidate: '2', interval_s: 3600 } });
  assert.equal(canary.status, 201, JSON.stringify(canary.body));
  const blocked = await request(`${agent.url}/v2/repository/models/digits/unload`, { method: 'POST' });
  assert.equal(blocked.status, 409);
  assert.match(blocked.body.error, /canary c-.* is running on digits; abort it/);
  await request(`${agent.url}/api/v1/canaries/${canary.body.id}`, { method: 'DELETE' });
  assert.equal((await request(`${agent.url}/v2/repository/models/digits/unload`, { method: 'POST' })).status, 200);
});

test('--repository-poll-s reloads a model whose files changed, adds a new version and unloads a removed model', async () => {
  const repo = digitsRepo();
  const agent = await startAgent({ args: ['--models', repo, '--repository-poll-s', '0.2'] });
  agents.push(agent);
  cpSync(join(repo, 'digits', '2'), join(repo, 'digits', '4'), { recursive: true });
  editConfig(repo, (c) => (c.max_batch_size = 32));
  await waitFor(async () => (await index(agent)).length === 4, 15_000);
  await waitFor(async () => (await request(`${agent.url}/v2/models/digits/config`)).body.max_batch_size === 32, 15_000);
  assert.equal((await request<InferResponse>(`${agent.url}/v2/models/digits/versions/4/infer`, { body: seven })).status, 200);
  const away = join(repo, '..', `${repo.split('/').pop()}-digits-away`);
  renameSync(join(repo, 'digits'), away);
  await waitFor(async () => (await index(agent)).every((e) => e.state === 'UNAVAILABLE'), 15_000);
  assert.match((await index(agent))[0]!.reason!, /its folder was removed from the repository/);
  // Moved back unchanged (same sizes and mtimes): loaded again.
  renameSync(away, join(repo, 'digits'));
  await waitFor(async () => (await index(agent)).every((e) => e.state === 'READY'), 15_000);
  assert.equal((await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body: seven })).status, 200);
});
