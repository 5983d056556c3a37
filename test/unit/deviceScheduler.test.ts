// The device's batch order (agent/src/inference/deviceScheduler.ts): one batch at a time, round
// robin over the versions with batches waiting. Jobs here are promises the test settles, so the
// order is observed exactly, with no clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceScheduler } from '../../agent/src/inference/deviceScheduler.js';

/** A job that records its start and finishes when the test says. */
function recorder() {
  const started: string[] = [];
  const finishers: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  const job = (owner: string, name: string) => ({
    owner,
    run: () =>
      new Promise<string>((resolve) => {
        started.push(name);
        running++;
        maxRunning = Math.max(maxRunning, running);
        finishers.push(() => {
          running--;
          resolve(name);
        });
      }),
  });
  /** Finishes the running job and lets the scheduler start the next. */
  const finishOne = async () => {
    finishers.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, job, finishOne, maxRunning: () => maxRunning };
}

test('one batch at a time; a version with ten batches queued does not hold back one that comes later', async () => {
  const s = new DeviceScheduler();
  const r = recorder();
  const done: Promise<string>[] = [];
  for (let i = 1; i <= 10; i++) done.push(s.submit(r.job('digits/1', `a${i}`)));
  done.push(s.submit(r.job('digits/2', 'b1')), s.submit(r.job('digits/2', 'b2')));
  assert.deepEqual(r.started, ['a1']);
  assert.equal(s.waiting('digits/1'), 9);
  assert.equal(s.waiting('digits/2'), 2);
  while (r.started.length < 12) await r.finishOne();
  // b1 runs right after the batch that was running when it came, not after a2..a10.
  assert.deepEqual(r.started, ['a1', 'b1', 'a2', 'b2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10']);
  while (r.maxRunning() > 1 || s.running) await r.finishOne();
  assert.equal(r.maxRunning(), 1);
  assert.deepEqual(await Promise.all(done), [...Array.from({ length: 10 }, (_, i) => `a${i + 1}`), 'b1', 'b2']);
});

test('three versions share the turns equally while all have batches waiting', async () => {
  const s = new DeviceScheduler();
  const r = recorder();
  for (let i = 1; i <= 4; i++) for (const v of ['x', 'y', 'z']) void s.submit(r.job(v, `${v}${i}`));
  while (r.started.length < 12) await r.finishOne();
  const turns = r.started.map((n) => n[0]).join('');
  assert.equal(turns, 'xyzxyzxyzxyz');
  await r.finishOne();
});

test('a failing batch answers its own request only; the next one runs', async () => {
  const s = new DeviceScheduler();
  const failed = s.submit({ owner: 'a', run: () => Promise.reject(new Error('model failed')) });
  const thrown = s.submit({
    owner: 'a',
    run: () => {
      throw new Error('threw before a promise');
    },
  });
  const ok = s.submit({ owner: 'b', run: () => Promise.resolve('fine') });
  await assert.rejects(failed, /model failed/);
  await assert.rejects(thrown, /threw before a promise/);
  assert.equal(await ok, 'fine');
});

test('drop() refuses the waiting batches of one version; the others run', async () => {
  const s = new DeviceScheduler();
  const r = recorder();
  const first = s.submit(r.job('a', 'a1'));
  const waitingA = s.submit(r.job('a', 'a2'));
  const waitingB = s.submit(r.job('b', 'b1'));
  s.drop('a', new Error('digits/1 was unloaded'));
  await assert.rejects(waitingA, /unloaded/);
  await r.finishOne();
  assert.equal(await first, 'a1');
  assert.deepEqual(r.started, ['a1', 'b1']);
  await r.finishOne();
  assert.equal(await waitingB, 'b1');
  assert.equal(s.waiting(), 0);
});
