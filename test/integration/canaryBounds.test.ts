// Canaries cost the same however long one runs and however many ran before (issue 16): a canary
// checking every 50 ms sends events of a constant size, keeps the status small and does not
// rewrite the state file on every check; hundreds of start/abort cycles leave the status, the list
// and the state file bounded, and stopping the agent writes what was pending.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentEvent, AgentStatus, Canary, CanaryCheck, CanaryHead } from '../../common/api.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';
import { SseClient } from '../helpers/sseClient.js';

const state = mkdtempSync(join(tmpdir(), 'inferscope-canary-bounds-'));
const stateFile = join(state, 'canaries.json');
const args = ['--state-dir', state];
let agent: AgentProcess;

before(async () => {
  agent = await startAgent({ args });
});
after(async () => {
  await agent.stop();
  rmSync(state, { recursive: true, force: true });
});

type CanaryEvent = Extract<AgentEvent, { type: 'canary' }>;
const status = async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
const full = async (id: string) => (await request<Canary>(`${agent.url}/api/v1/canaries/${id}`)).body;
/** The status's recent checks: only the last keeps its evidence (the ledger rows). */
const asRecent = (checks: CanaryCheck[]) => checks.map((k, i) => (i === checks.length - 1 ? k : { ...k, metrics: k.metrics.map(({ evidence: _, ...m }) => m) }));

test('a canary checking every 50 ms: events carry only the new check, the status at most 12, the file is not rewritten per check', async () => {
  const events = await SseClient.connect(`${agent.url}/api/v1/events`);
  // No traffic: every check is inconclusive, and the 61st rolls the canary back.
  const started = await request<Canary>(`${agent.url}/api/v1/canaries`, {
    body: { model: 'digits', candidate: '2', steps: [50, 100], interval_s: 0.05, checks_per_step: 2, thresholds: { max_inconclusive_checks: 60 } },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const id = started.body.id;

  // Watch the state file being replaced (each write renames a new file over it) while the canary runs.
  const versions = new Set<string>();
  const watchedFrom = Date.now();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      try {
        const s = statSync(stateFile);
        versions.add(`${s.ino}:${s.mtimeMs}`);
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  await waitFor(async () => (await full(id)).checks.length >= 30, 20_000);
  const during = (await status()).canaries.find((c) => c.id === id)!;
  const fullDuring = await full(id);
  assert.equal(during.state, 'running');
  assert.ok(!('checks' in during), 'the status carries no full list of checks');
  assert.ok(during.check_count >= 30 && during.check_count <= fullDuring.checks.length, `${during.check_count} checks`);
  assert.equal(during.recent_checks.length, 12);
  assert.deepEqual(during.recent_checks, asRecent(fullDuring.checks.slice(0, during.check_count).slice(-12)));

  await waitFor(async () => (await full(id)).state !== 'running', 20_000);
  watching = false;
  await watcher;
  const watchedS = (Date.now() - watchedFrom) / 1000;
  const done = await full(id);
  assert.equal(done.state, 'rolled_back');
  assert.equal(done.checks.length, 61, done.reason ?? '');
  // At most one write a second, not one per check (61 here).
  assert.ok(versions.size <= Math.ceil(watchedS) + 1, `the state file was replaced ${versions.size} times in ${watchedS.toFixed(1)} s`);

  const ended = await events.next((m) => m.event === 'canary' && m.data.canary.id === id && m.data.canary.state !== 'running');
  const mine = events.messages.filter((m) => m.event === 'canary' && m.data.canary.id === id).map((m) => m.data as CanaryEvent);
  const withCheck = mine.filter((e) => e.check);
  assert.equal(withCheck.length, 61);
  assert.equal(mine.at(-1), ended.data);
  withCheck.forEach((e, i) => {
    assert.ok(!('checks' in e.canary), `event ${i + 1} carries no list of checks`);
    assert.equal(e.canary.check_count, i + 1);
    assert.deepEqual(e.check, done.checks[i]);
  });
  // The same size at the 61st check as at the first (the rollback adds its reason and end time).
  const sizes = withCheck.map((e) => JSON.stringify(e).length);
  assert.ok(Math.max(...sizes) <= sizes[0]! + 512, `event sizes from ${sizes[0]} to ${Math.max(...sizes)} bytes`);
  assert.ok(!JSON.stringify(mine.at(-1)).includes(done.checks[0]!.at), 'the last event does not repeat the first check');
  events.close();

  const after = (await status()).canaries.find((c) => c.id === id)!;
  assert.equal(after.check_count, 61);
  assert.deepEqual(after.recent_checks, asRecent(done.checks.slice(-12)), "the model's latest canary keeps its last checks in the status");
  const listed = (await request<CanaryHead[]>(`${agent.url}/api/v1/canaries`)).body.find((c) => c.id === id)!;
  assert.ok(!('checks' in listed) && listed.check_count === 61, JSON.stringify(listed).slice(0, 200));
});

test('160 start/abort cycles: the status, the list and the state file stay bounded; stopping writes what was pending', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 160; i++) {
    const started = await request<Canary>(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', candidate: '2', interval_s: 3600 } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal((await request(`${agent.url}/api/v1/canaries/${started.body.id}`, { method: 'DELETE' })).status, 200);
    ids.push(started.body.id);
  }
  const s = await status();
  assert.equal(s.canaries.length, 20, 'the 20 that ended last');
  assert.deepEqual(s.canaries.map((c) => c.id), ids.slice(-20));
  const statusBytes = JSON.stringify(s).length;
  assert.ok(statusBytes < 64 * 1024, `status: ${statusBytes} bytes`);

  const list = (await request<CanaryHead[]>(`${agent.url}/api/v1/canaries`)).body;
  assert.equal(list.length, 100, 'the state folder keeps the last 100');
  assert.deepEqual(list.map((c) => c.id), ids.slice(-100));
  assert.equal((await request(`${agent.url}/api/v1/canaries/${ids[0]}`)).status, 404, 'the oldest were dropped');

  // The last abort is at most a second old: stopping must write it.
  await agent.stop();
  const text = readFileSync(stateFile, 'utf8');
  const onDisk = (JSON.parse(text) as { canaries: Canary[] }).canaries;
  assert.deepEqual(onDisk.map((c) => `${c.id}:${c.state}`), ids.slice(-100).map((id) => `${id}:aborted`));
  assert.ok(text.length < 256 * 1024, `canaries.json: ${text.length} bytes`);
  assert.equal(statSync(stateFile).mode & 0o777, 0o600);

  agent = await startAgent({ args });
  assert.deepEqual((await request<CanaryHead[]>(`${agent.url}/api/v1/canaries`)).body.map((c) => c.id), ids.slice(-100));
});
