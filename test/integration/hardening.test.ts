// Findings of the outside red team (issue 16) that broke a promise, each against the real agent:
// HEAD holding event-stream slots, repeated query parameters widening a cache flush, a corrupt or
// hostile state file, a broken symlink in the repository, a model that never finishes loading at
// SIGTERM, and the state folder's permissions.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentStatus } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';

const agents: AgentProcess[] = [];
after(async () => {
  for (const a of agents) await a.stop();
});
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `inferscope-${prefix}-`));

test('HEAD on the event stream is 405 and holds no slot; ?model= given twice is refused, not widened to every model', async () => {
  const agent = await startAgent();
  agents.push(agent);
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${agent.url}/api/v1/events`, { method: 'HEAD' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET');
  }
  const stream = await fetch(`${agent.url}/api/v1/events`);
  assert.equal(stream.status, 200);
  await stream.body!.cancel();

  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: { parameters: { entities: ['digit-1'] } } })).status, 200);
  const cached = async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.caches.digits!.entries;
  assert.equal(await cached(), 1);
  for (const query of ['model=digits&model=x', 'model[]=digits']) {
    const r = await request(`${agent.url}/api/v1/cache?${query}`, { method: 'DELETE' });
    assert.ok(r.status === 400 || r.status === 404, `${query}: ${r.status}`);
  }
  assert.equal(await cached(), 1);
});

test('a corrupt canaries.json is moved aside with a warning; the state folder and file are owner-only', async () => {
  for (const content of ['{"canaries":', 'null', '[null]', '{"canaries":{}}', '{"canaries":"abc"}']) {
    const state = temp('state');
    mkdirSync(join(state, 'inferscope'));
    writeFileSync(join(state, 'inferscope', 'canaries.json'), content);
    const agent = await startAgent({ env: { XDG_STATE_HOME: state } });
    agents.push(agent);
    assert.equal((await request(`${agent.url}/api/v1/status`)).status, 200, content);
    assert.match(agent.stderr(), /could not be read .* moved it to .*canaries\.json\.corrupt-\d+ and started with no canary history/, content);
    assert.ok(readdirSync(join(state, 'inferscope')).some((f) => f.startsWith('canaries.json.corrupt-')));
    // A canary aborted at once writes the state afresh: owner-only.
    const c = await request(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', baseline: '1', candidate: '2', interval_s: 3600 } });
    assert.equal(c.status, 201);
    await request(`${agent.url}/api/v1/canaries/${c.body.id}`, { method: 'DELETE' });
    await agent.stop();
    assert.equal(statSync(join(state, 'inferscope', 'canaries.json')).mode & 0o777, 0o600);
    if (content === 'null') {
      const fresh = temp('state');
      const again = await startAgent({ env: { XDG_STATE_HOME: fresh } });
      agents.push(again);
      const d = await request(`${again.url}/api/v1/canaries`, { body: { model: 'digits', baseline: '1', candidate: '2', interval_s: 3600 } });
      await request(`${again.url}/api/v1/canaries/${d.body.id}`, { method: 'DELETE' });
      await again.stop();
      assert.equal(statSync(join(fresh, 'inferscope')).mode & 0o777, 0o700);
    }
  }
});

test('a broken symlink as a model or version folder is skipped; the other models serve', async () => {
  const repo = temp('symlinks');
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  symlinkSync(join(repo, 'nowhere'), join(repo, 'ghost'));
  symlinkSync(join(repo, 'nowhere'), join(repo, 'digits', '7'));
  const agent = await startAgent({ args: ['--models', repo] });
  agents.push(agent);
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(4) })).status, 200);
  assert.deepEqual((await request(`${agent.url}/v2/repository/index`, { method: 'POST' })).body.map((e: { version: string }) => e.version), ['1', '2', '3']);
});

test('a model.onnx that is a FIFO is refused at load (it would block its thread, and the exit, forever); SIGTERM exits at once', async () => {
  const repo = temp('fifo');
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  mkdirSync(join(repo, 'stuck', '1'), { recursive: true });
  writeFileSync(join(repo, 'stuck', 'config.json'), '{}');
  execFileSync('mkfifo', [join(repo, 'stuck', '1', 'model.onnx')]);
  const agent = await startAgent({ args: ['--models', repo], waitReady: false });
  agents.push(agent);
  await waitFor(async () => /models loaded with failures/.test(agent.stderr()), 20_000, () => agent.stderr());
  const stuck = (await request(`${agent.url}/v2/repository/index`, { method: 'POST' })).body.find((e: { name: string }) => e.name === 'stuck');
  assert.match(stuck.reason, /model\.onnx is not a regular file/);
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(4) })).status, 200);
  const started = Date.now();
  assert.equal(await agent.stop('SIGTERM'), 0);
  assert.ok(Date.now() - started < 5000);
});
