import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DynamicBatcher, type BatchRequest, type BatchRunner, type BatcherOptions } from '../../agent/src/batching/dynamicBatcher.js';
import { CancelledError, DeadlineExceededError, ModelExecutionError, OutputTooLargeError, QueueFullError, WorkerCrashedError } from '../../agent/src/errors.js';
import type { WireTensor } from '../../agent/src/inference/tensorTypes.js';
import { FakeClock, flush } from '../helpers/fakeClock.js';

/** A runner whose batches finish when the test says so; it echoes input `x` as output `y`. */
class ManualRunner implements BatchRunner {
  calls: { feeds: Record<string, WireTensor>; finish(): void; fail(err: Error): void }[] = [];
  constructor(public size = 1) {}
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        feeds,
        finish: () => resolve({ y: { ...feeds.x!, data: (feeds.x!.data as Float32Array).slice() } }),
        fail: reject,
      });
    });
  }
  rows(i: number): number {
    return this.calls[i]!.feeds.x!.dims[0]!;
  }
}

const base: BatcherOptions = { label: 'm/1', maxBatchSize: 8, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMs: 0 };

function rowsOf(values: number[], width = 2): { feeds: Record<string, WireTensor>; rows: number; outputNames: string[] } {
  const rows = values.length;
  const data = new Float32Array(rows * width);
  values.forEach((v, i) => data.fill(v, i * width, (i + 1) * width));
  return { feeds: { x: { type: 'float32', dims: [rows, width], data } }, rows, outputNames: ['y'] };
}

/** A runner that fails any batch holding the value -1 (a model failing on one request's input). */
function poisonedRunner(): BatchRunner {
  return {
    size: 1,
    async run(feeds) {
      const x = feeds.x!.data as Float32Array;
      if (x.includes(-1)) throw new ModelExecutionError('m/1 failed to run: poisoned input');
      return { y: { ...feeds.x!, data: x.slice() } };
    },
  };
}

function setup(opts: Partial<BatcherOptions> = {}, instances = 1) {
  const clock = new FakeClock();
  const runner = new ManualRunner(instances);
  const batcher = new DynamicBatcher(runner, { ...base, ...opts }, clock);
  return { clock, runner, batcher };
}

const firstValue = (out: Record<string, WireTensor>) => (out.y!.data as Float32Array)[0];

test('an idle instance with no delay runs a request at once (as soon as the current callback is done)', async () => {
  const { runner, batcher, clock } = setup();
  const p = batcher.submit(rowsOf([5]));
  await flush();
  assert.equal(runner.calls.length, 1);
  assert.equal(clock.pendingTimers, 0);
  runner.calls[0]!.finish();
  assert.equal(firstValue(await p), 5);
});

test('requests that arrive while the instance is busy form the next batch, each gets its own rows', async () => {
  const { runner, batcher } = setup();
  const first = batcher.submit(rowsOf([1]));
  await flush();
  const rest = [batcher.submit(rowsOf([2, 3])), batcher.submit(rowsOf([4])), batcher.submit(rowsOf([5]))];
  await flush();
  assert.equal(runner.calls.length, 1);
  assert.equal(batcher.queueDepth, 3);
  runner.calls[0]!.finish();
  await first;
  await flush();
  assert.equal(runner.calls.length, 2);
  assert.equal(runner.rows(1), 4);
  runner.calls[1]!.finish();
  const outs = await Promise.all(rest);
  assert.deepEqual(Array.from(outs[0]!.y!.data as Float32Array), [2, 2, 3, 3]);
  assert.deepEqual(outs[0]!.y!.dims, [2, 2]);
  assert.deepEqual(outs.slice(1).map(firstValue), [4, 5]);
  assert.deepEqual(batcher.recentBatchSizes, [1, 4]);
});

test('size trigger: a full batch goes at once even with a queue delay', async () => {
  const { runner, batcher, clock } = setup({ maxBatchSize: 4, maxQueueDelayMs: 50 });
  const t0 = clock.now();
  for (let i = 0; i < 3; i++) void batcher.submit(rowsOf([i]));
  await flush();
  assert.equal(runner.calls.length, 0);
  void batcher.submit(rowsOf([3]));
  await flush();
  assert.equal(runner.calls.length, 1);
  assert.equal(runner.rows(0), 4);
  assert.equal(clock.now(), t0);
});

test('delay trigger: a partial batch goes when its oldest request has waited max_queue_delay_ms', async () => {
  const { runner, batcher, clock } = setup({ maxQueueDelayMs: 10 });
  void batcher.submit(rowsOf([1]));
  await flush();
  clock.advance(4);
  void batcher.submit(rowsOf([2]));
  await flush();
  clock.advance(5);
  assert.equal(runner.calls.length, 0);
  clock.advance(1);
  assert.equal(runner.calls.length, 1);
  assert.equal(runner.rows(0), 2);
});

test('preferred sizes: reaching the largest goes at once; on delay expiry the batch is cut to a preferred size', async () => {
  const a = setup({ maxBatchSize: 8, maxQueueDelayMs: 10, preferredBatchSizes: [2, 4] });
  for (let i = 0; i < 4; i++) void a.batcher.submit(rowsOf([i]));
  await flush();
  assert.equal(a.runner.rows(0), 4);

  const b = setup({ maxBatchSize: 8, maxQueueDelayMs: 10, preferredBatchSizes: [2, 4] }, 2);
  for (let i = 0; i < 3; i++) void b.batcher.submit(rowsOf([i]));
  await flush();
  b.clock.advance(10);
  // 3 waiting, preferred {2,4}: a batch of 2, then the remaining 1 (it has waited too).
  assert.deepEqual(b.runner.calls.map((_, i) => b.runner.rows(i)), [2, 1]);
});

test('requests whose non-batch dimensions differ never share a batch', async () => {
  const { runner, batcher } = setup();
  void batcher.submit(rowsOf([0]));
  await flush();
  void batcher.submit(rowsOf([1], 2));
  void batcher.submit(rowsOf([2], 3));
  void batcher.submit(rowsOf([3], 2));
  await flush();
  runner.calls[0]!.finish();
  await flush();
  assert.equal(runner.rows(1), 2);
  assert.deepEqual(Array.from(runner.calls[1]!.feeds.x!.data as Float32Array), [1, 1, 3, 3]);
  runner.calls[1]!.finish();
  await flush();
  assert.deepEqual(runner.calls[2]!.feeds.x!.dims, [1, 3]);
});

test('a burst that arrives together is one batch, even on an idle instance', async () => {
  const { runner, batcher } = setup();
  for (let i = 0; i < 5; i++) void batcher.submit(rowsOf([i]));
  await flush();
  assert.equal(runner.calls.length, 1);
  assert.equal(runner.rows(0), 5);
});

test('when a batch completes, the next full batch is dispatched before its requests are answered', async () => {
  const { runner, batcher } = setup({ maxBatchSize: 2 }, 1);
  const order: string[] = [];
  const track = (v: number) => batcher.submit(rowsOf([v])).then(() => order.push(`answered ${v}`));
  void track(0);
  await flush();
  // Queue a full batch [1,2] and a partial one [3]; the lookahead takes [1,2] early.
  const rest = [track(1), track(2), track(3), track(4)];
  await flush();
  assert.equal(runner.calls.length, 2);
  const realRun = runner.run.bind(runner);
  runner.run = (feeds) => {
    order.push(`dispatched ${(feeds.x!.data as Float32Array)[0]}`);
    return realRun(feeds);
  };
  runner.calls[0]!.finish();
  await flush();
  assert.deepEqual(order.slice(0, 2), ['dispatched 3', 'answered 0']);
  runner.calls[1]!.finish();
  runner.calls[2]!.finish();
  await Promise.all(rest);
});

test('a full batch is handed over early while the instance is busy; a partial one is not', async () => {
  const { runner, batcher } = setup({ maxBatchSize: 2 });
  void batcher.submit(rowsOf([0]));
  await flush();
  void batcher.submit(rowsOf([1]));
  await flush();
  assert.equal(runner.calls.length, 1);
  void batcher.submit(rowsOf([2]));
  await flush();
  assert.equal(runner.calls.length, 2, 'the full batch [1,2] went to the busy instance');
  void batcher.submit(rowsOf([3]));
  await flush();
  assert.equal(runner.calls.length, 2, 'at most one extra batch per instance');
  assert.equal(batcher.inFlightBatches, 2);
});

test('several instances run batches at the same time', async () => {
  const { runner, batcher } = setup({}, 3);
  for (let i = 0; i < 3; i++) {
    void batcher.submit(rowsOf([i]));
    await flush();
  }
  assert.equal(runner.calls.length, 3);
  assert.equal(batcher.inFlightBatches, 3);
  void batcher.submit(rowsOf([9]));
  await flush();
  assert.equal(runner.calls.length, 3);
});

test('a failing batch is bisected so only the bad request fails, with its own error', async () => {
  const batcher = new DynamicBatcher(poisonedRunner(), { ...base }, new FakeClock());
  const events: boolean[] = [];
  batcher.on('batch', (e) => events.push(e.ok));
  const hold = batcher.submit(rowsOf([0]));
  await flush();
  const ps = [1, 2, -1, 4, 5].map((v) => batcher.submit(rowsOf([v])).then(firstValue, (e: Error) => e));
  await hold;
  const results = await Promise.all(ps);
  assert.deepEqual(results.filter((r) => typeof r === 'number'), [1, 2, 4, 5]);
  const failed = results.find((r) => r instanceof Error) as Error;
  assert.ok(failed instanceof ModelExecutionError);
  assert.match(failed.message, /poisoned input/);
  assert.ok(events.includes(false) && events.filter((e) => e).length >= 3);
});

test('output bound: the runner is given the bound × requests; a request over it fails alone, the others are answered', async () => {
  const clock = new FakeClock();
  const bounds: number[] = [];
  // Each row's output has as many elements as the row's value says (width 1), as a model whose
  // output size depends on its input would; the runner enforces the bound it is given, as the worker does.
  const runner: BatchRunner = {
    size: 1,
    async run(feeds, _names, bound = 0) {
      bounds.push(bound);
      const x = feeds.x!.data as Float32Array;
      const perRow = Math.max(...x);
      if (bound > 0 && perRow * x.length > bound) throw new OutputTooLargeError(`output 'y' has ${perRow * x.length} elements`);
      const data = new Float32Array(perRow * x.length);
      x.forEach((v, i) => data.fill(v, i * perRow, (i + 1) * perRow));
      return { y: { type: 'float32', dims: [x.length, perRow], data } };
    },
  };
  const batcher = new DynamicBatcher(runner, { ...base, maxOutputElements: 10 }, clock);
  const hold = batcher.submit(rowsOf([1], 1));
  await flush();
  const ps = [2, 3, 50, 4].map((v) => batcher.submit(rowsOf([v], 1)).then(firstValue, (e: Error) => e));
  await hold;
  const results = await Promise.all(ps);
  assert.equal(bounds[0], 10, 'a batch of one request gets the bound itself');
  assert.equal(bounds[1], 40, 'a batch of four gets four times the bound');
  assert.ok(results[2] instanceof OutputTooLargeError, String(results[2]));
  assert.deepEqual([results[0], results[1], results[3]], [2, 3, 4]);
});

test('output bound: a request whose share of a batch within the bound is over it still fails, alone', async () => {
  const clock = new FakeClock();
  // Every row has 8 output elements: the batch of four rows (32) is within 3 × 10, but the
  // request with two rows has 16.
  const runner: BatchRunner = {
    size: 1,
    async run(feeds) {
      const x = feeds.x!.data as Float32Array;
      return { y: { type: 'float32', dims: [x.length, 8], data: new Float32Array(x.length * 8).fill(1) } };
    },
  };
  const batcher = new DynamicBatcher(runner, { ...base, maxOutputElements: 10 }, clock);
  const hold = batcher.submit(rowsOf([1], 1));
  await flush();
  const ps = [rowsOf([1], 1), rowsOf([1, 1], 1), rowsOf([1], 1)].map((r) => batcher.submit(r).then(firstValue, (e: Error) => e));
  await hold;
  const [a, b, c] = await Promise.all(ps);
  assert.equal(a, 1);
  assert.equal(c, 1);
  assert.ok(b instanceof OutputTooLargeError);
  assert.match((b as Error).message, /output 'y' has 16 elements \[2, 8\]; at most 10 are returned per request/);
});

test('a worker crash fails its batch with a clear error and is not retried', async () => {
  const { runner, batcher } = setup();
  const p = batcher.submit(rowsOf([1]));
  await flush();
  runner.calls[0]!.fail(new WorkerCrashedError('m/1 could not finish the request: its worker thread exited (code 1)'));
  await assert.rejects(p, WorkerCrashedError);
  assert.equal(runner.calls.length, 1);
});

test('queue full: rejected at once with QueueFullError and a rejected event', async () => {
  const { batcher } = setup({ maxQueueSize: 2 });
  const reasons: string[] = [];
  batcher.on('rejected', (r) => reasons.push(r));
  void batcher.submit(rowsOf([0])); // running
  await flush();
  void batcher.submit(rowsOf([1]));
  void batcher.submit(rowsOf([2]));
  await assert.rejects(batcher.submit(rowsOf([3])), (e: unknown) => e instanceof QueueFullError && /queue of m\/1 is full \(2 requests\)/.test(e.message));
  assert.deepEqual(reasons, ['queue_full']);
});

test('deadline: a request still queued when its deadline passes gets DeadlineExceededError; the request timeout lowers it', async () => {
  const { runner, batcher, clock } = setup({ defaultTimeoutMs: 100 });
  const running = batcher.submit(rowsOf([0]));
  await flush();
  const queuedDefault = batcher.submit(rowsOf([1]));
  const queuedShort = batcher.submit({ ...rowsOf([2]), timeoutMs: 30 });
  await flush();
  clock.advance(30);
  await assert.rejects(queuedShort, (e: unknown) => e instanceof DeadlineExceededError && /past its 30 ms deadline/.test((e as Error).message));
  assert.equal(batcher.queueDepth, 1);
  clock.advance(70);
  await assert.rejects(queuedDefault, DeadlineExceededError);
  // The running request is past its deadline too, but it was dispatched: it completes.
  runner.calls[0]!.finish();
  assert.equal(firstValue(await running), 0);
  assert.equal(runner.calls.length, 1, 'expired requests never ran');
});

test('a cancelled request is removed from the queue before it runs', async () => {
  const { runner, batcher } = setup();
  void batcher.submit(rowsOf([0]));
  await flush();
  const abort = new AbortController();
  const cancelled = batcher.submit({ ...rowsOf([1]), signal: abort.signal });
  const kept = batcher.submit(rowsOf([2]));
  abort.abort();
  await assert.rejects(cancelled, CancelledError);
  runner.calls[0]!.finish();
  await flush();
  assert.deepEqual(Array.from(runner.calls[1]!.feeds.x!.data as Float32Array), [2, 2]);
  runner.calls[1]!.finish();
  assert.equal(firstValue(await kept), 2);
  await assert.rejects(batcher.submit({ ...rowsOf([3]), signal: abort.signal }), CancelledError);
});

test('models without a batch dimension run each request alone', async () => {
  const { runner, batcher } = setup({ maxBatchSize: 0 });
  void batcher.submit(rowsOf([0]));
  await flush();
  void batcher.submit(rowsOf([1]));
  void batcher.submit(rowsOf([2]));
  await flush();
  runner.calls[0]!.finish();
  await flush();
  assert.equal(runner.calls.length, 3);
  assert.deepEqual(runner.calls.map((c) => Array.from(c.feeds.x!.data as Float32Array)), [[0, 0], [1, 1], [2, 2]]);
});

test('every batch says why it left: idle instance, delay expiry, max size, preferred size, early to a busy instance, unbatched, bisect', async () => {
  const reasons = (b: DynamicBatcher) => {
    const seen: { reason: string; rows: number; queueDepth: number; ids: string[] }[] = [];
    b.on('batch', (e) => seen.push({ reason: e.reason, rows: e.rows, queueDepth: e.queueDepth, ids: e.requestIds }));
    return seen;
  };
  const finishAll = async (runner: ManualRunner) => {
    for (let i = 0; i < 10; i++) {
      for (const c of runner.calls.splice(0)) c.finish();
      await flush();
    }
  };
  // Delay 0, idle instance: at once; then a full batch (max 2) handed early to the busy instance.
  const a = setup({ maxBatchSize: 2 });
  const seenA = reasons(a.batcher);
  void a.batcher.submit({ ...rowsOf([0]), traceId: 'r1' });
  await flush();
  void a.batcher.submit({ ...rowsOf([1]), traceId: 'r2' });
  void a.batcher.submit({ ...rowsOf([2]), traceId: 'r3' });
  void a.batcher.submit({ ...rowsOf([3]), traceId: 'r4' });
  await flush();
  await finishAll(a.runner);
  assert.deepEqual(seenA, [
    { reason: 'instance_idle', rows: 1, queueDepth: 0, ids: ['r1'] },
    { reason: 'full_to_busy_instance', rows: 2, queueDepth: 1, ids: ['r2', 'r3'] },
    { reason: 'instance_idle', rows: 1, queueDepth: 0, ids: ['r4'] },
  ]);

  // A queue delay: a partial batch leaves when it expires; a full one at once.
  const b = setup({ maxBatchSize: 3, maxQueueDelayMs: 5 });
  const seenB = reasons(b.batcher);
  void b.batcher.submit(rowsOf([0]));
  await flush();
  b.clock.advance(5);
  await finishAll(b.runner); // the instance is idle again
  for (const v of [1, 2, 3]) void b.batcher.submit(rowsOf([v]));
  await flush();
  await finishAll(b.runner);
  assert.deepEqual(seenB.map((e) => [e.reason, e.rows]), [['max_queue_delay', 1], ['max_batch_size', 3]]);

  // The largest preferred size reached: at once.
  const c = setup({ maxBatchSize: 8, maxQueueDelayMs: 50, preferredBatchSizes: [2] });
  const seenC = reasons(c.batcher);
  for (const v of [1, 2]) void c.batcher.submit(rowsOf([v]));
  await flush();
  await finishAll(c.runner);
  assert.deepEqual(seenC.map((e) => [e.reason, e.rows]), [['preferred_size', 2]]);

  // No batch dimension.
  const d = setup({ maxBatchSize: 0 });
  const seenD = reasons(d.batcher);
  void d.batcher.submit({ ...rowsOf([1]), rows: 0 });
  await flush();
  await finishAll(d.runner);
  assert.deepEqual(seenD.map((e) => e.reason), ['unbatched']);
});

test('a bisected batch: the halves are batches of their own, reason bisect; each request learns its batch and when it ran', async () => {
  const batcher = new DynamicBatcher(poisonedRunner(), { ...base }, new FakeClock());
  const seen: { id: string; reason: string; ids: string[] }[] = [];
  batcher.on('batch', (e) => seen.push({ id: e.id, reason: e.reason, ids: e.requestIds }));
  const hold = batcher.submit({ ...rowsOf([0]), traceId: 'h' });
  await flush();
  const reqs: BatchRequest[] = [1, -1].map((v, i) => ({ ...rowsOf([v]), traceId: `q${i}` }));
  const answers = reqs.map((r) => batcher.submit(r).catch(() => undefined));
  await hold;
  await Promise.all(answers);
  assert.deepEqual(seen.map((e) => [e.reason, e.ids]), [['instance_idle', ['h']], ['instance_idle', ['q0', 'q1']], ['bisect', ['q0']], ['bisect', ['q1']]]);
  assert.equal(new Set(seen.map((e) => e.id)).size, 4, 'each batch its own id');
  // Each request is told the batch it finally ran in.
  assert.equal(reqs[0]!.batchId, seen[2]!.id);
  assert.equal(reqs[1]!.batchId, seen[3]!.id);
  assert.ok(reqs[0]!.computeStartedAt! <= reqs[0]!.computeEndedAt!);
});
