// The device thread of a GPU provider (agent/src/inference/deviceThread.ts, devicePool.ts) around
// a stand-in device worker (test/fixtures/crashingDeviceWorker.js): versions share one thread,
// take turns, report device time; when the thread dies, what was in flight fails with a clear
// error and every version on it is loaded again on a fresh thread.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkerCrashedError } from '../../agent/src/errors.js';
import { DevicePool } from '../../agent/src/inference/devicePool.js';
import { DeviceThreads } from '../../agent/src/inference/deviceThread.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import { ROOT, waitFor } from '../helpers/agentProcess.js';

const WORKER = join(ROOT, 'test', 'fixtures', 'crashingDeviceWorker.js');

function pool(threads: DeviceThreads, label: string, busy: number[] = [], modelPath = `/m/${label}`) {
  return DevicePool.start({ threads, provider: { name: 'webgpu', options: {} }, modelPath, intraOpThreads: 1, label, slots: 2, runTimeoutMs: 0, logger: silentLogger, onBusy: (ms) => busy.push(ms) });
}

const feeds = (first: number, ms: number) => ({ x: { type: 'float32' as const, dims: [1, 2], data: new Float32Array([first, ms]) } });
const order = (out: Record<string, { data: unknown }>) => (out.y!.data as Float32Array)[0]!;

test('two versions on one device thread: one thread, turns taken in order, device time reported per version', async () => {
  const threads = new DeviceThreads(WORKER);
  const busyA: number[] = [];
  const busyB: number[] = [];
  const { pool: a, info } = await pool(threads, 'm/1', busyA);
  const { pool: b } = await pool(threads, 'm/2', busyB);
  try {
    assert.equal(info.provider, 'webgpu');
    assert.equal(a.size, 2, 'slots: the batches that may wait on the device');
    assert.equal(threads.get('webgpu').sessions, 2, 'both sessions in one thread');
    // Four of A's batches queued before B's one: B's runs second, not fifth.
    const runsA = [1, 2, 3, 4].map(() => a.run(feeds(1, 5), ['y']));
    const runB = b.run(feeds(1, 5), ['y']);
    const [firstA, ...restA] = await Promise.all(runsA);
    assert.equal(order(firstA!), 1);
    assert.equal(order(await runB), 2);
    assert.deepEqual(restA.map(order), [3, 4, 5]);
    assert.deepEqual([busyA.length, busyB.length], [4, 1]);
    assert.ok(busyA.every((ms) => ms === 5));
  } finally {
    await a.close();
    await b.close();
  }
  // The last session gone, the thread is ended (a provider that is not used holds no thread).
  assert.equal((threads as unknown as { threads: Map<string, unknown> }).threads.size, 0);
});

test('a load that fails on the device leaves no thread behind and says why', async () => {
  const threads = new DeviceThreads(WORKER);
  await assert.rejects(pool(threads, 'm/1', [], '/m/unloadable'), /no adapter \(fixture\)/);
  assert.equal((threads as unknown as { threads: Map<string, unknown> }).threads.size, 0);
});

test('the device thread dies: batches in flight and waiting fail with WorkerCrashedError; both versions come back on a new thread', async () => {
  const threads = new DeviceThreads(WORKER);
  const { pool: a } = await pool(threads, 'm/1');
  const { pool: b } = await pool(threads, 'm/2');
  try {
    const first = threads.get('webgpu');
    const slow = b.run(feeds(1, 50), ['y']); // running when the crash comes? queued behind it
    const crash = a.run(feeds(-1, 0), ['y']);
    const waiting = b.run(feeds(1, 1), ['y']);
    const results = await Promise.allSettled([slow, crash, waiting]);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
    assert.ok(failed.length >= 2, 'the crashing batch and the one behind it fail');
    for (const err of failed) {
      assert.ok(err instanceof WorkerCrashedError, String(err));
      assert.match(err.message, /the webgpu device thread exited \(code 7\)/);
    }
    assert.equal(first.isAlive, false);
    assert.equal(a.size, 0, 'not ready while it is loaded again');
    await waitFor(async () => a.size === 2 && b.size === 2, 5000);
    const second = threads.get('webgpu');
    assert.notEqual(second, first);
    assert.equal(second.sessions, 2);
    const out = await b.run(feeds(1, 1), ['y']);
    assert.equal(order(out), 1, 'a fresh thread ran it');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a version reloaded from disk: its new session loads beside the one still serving; closing the old leaves the new one serving', async () => {
  const threads = new DeviceThreads(WORKER);
  const { pool: old } = await pool(threads, 'm/1');
  const { pool: fresh } = await pool(threads, 'm/1');
  try {
    assert.equal(threads.get('webgpu').sessions, 2);
    await Promise.all([old.run(feeds(1, 1), ['y']), fresh.run(feeds(1, 1), ['y'])]);
    await old.close();
    assert.equal(threads.get('webgpu').sessions, 1);
    const out = await fresh.run(feeds(1, 1), ['y']);
    assert.equal((out.y!.data as Float32Array)[1], 1, 'one session left on the device');
  } finally {
    await fresh.close();
  }
});
