// The batcher on real worker threads: real ONNX Runtime sessions on the demo model (several
// instances busy at once), and a worker that dies mid-batch.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DynamicBatcher } from '../../agent/src/batching/dynamicBatcher.js';
import { WorkerCrashedError } from '../../agent/src/errors.js';
import { InstancePool } from '../../agent/src/inference/instancePool.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import { systemClock } from '../../agent/src/time/clock.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { BUNDLED_MODELS, ROOT, waitFor } from '../helpers/agentProcess.js';

const WORKER = join(ROOT, 'dist', 'agent', 'inferenceWorker.js');
/** A pool of the stand-in worker (test/fixtures/crashingWorker.js) that crashes or hangs on request. */
const fixturePool = (label: string, runTimeoutMs?: number) =>
  InstancePool.start({
    workerFile: join(ROOT, 'test', 'fixtures', 'crashingWorker.js'),
    init: { modelPath: 'unused', provider: { name: 'cpu', options: {} }, intraOpThreads: 1 },
    count: 1,
    label,
    logger: silentLogger,
    ...(runTimeoutMs !== undefined ? { runTimeoutMs } : {}),
  });

const options = { label: 'digits/2', maxBatchSize: 64, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMs: 0 };

test('two instances of the real model run batches at the same time, and every request gets its own rows', async () => {
  const { pool } = await InstancePool.start({
    workerFile: WORKER,
    init: { modelPath: join(BUNDLED_MODELS, 'digits', '2', 'model.onnx'), provider: { name: 'cpu', options: {} }, intraOpThreads: 1 },
    count: 2,
    label: 'digits/2',
    logger: silentLogger,
  });
  try {
    const batcher = new DynamicBatcher(pool, options, systemClock);
    let maxInFlight = 0;
    batcher.on('dequeued', () => (maxInFlight = Math.max(maxInFlight, batcher.inFlightBatches)));
    const sizes: number[] = [];
    batcher.on('batch', (e) => sizes.push(e.rows));
    const samples = loadMnist().heldOut.slice(0, 400);
    // Reference: each digit alone, one at a time.
    const alone: Float32Array[] = [];
    for (const s of samples) {
      const out = await pool.run({ pixels: { type: 'float32', dims: [1, 784], data: s.pixels.slice() } }, ['probs']);
      alone.push(out.probs!.data as Float32Array);
    }
    const together = await Promise.all(
      samples.map((s) => batcher.submit({ feeds: { pixels: { type: 'float32', dims: [1, 784], data: s.pixels.slice() } }, rows: 1, outputNames: ['probs'] })),
    );
    together.forEach((out, i) => {
      const got = out.probs!.data as Float32Array;
      assert.deepEqual(out.probs!.dims, [1, 10]);
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(got[j]! - alone[i]![j]!) < 1e-5, `request ${i} class ${j}`);
    });
    assert.ok(maxInFlight >= 2, `batches in flight at once: ${maxInFlight}`);
    assert.ok(Math.max(...sizes) > 1, `batches formed: ${sizes.join(',')}`);
  } finally {
    await pool.close();
  }
});

test('a worker that dies mid-batch fails that batch with a clear error, is replaced, and serving goes on', async () => {
  const { pool } = await fixturePool('crashy/1');
  try {
    const batcher = new DynamicBatcher(pool, { ...options, label: 'crashy/1' }, systemClock);
    const x = (v: number) => ({ feeds: { x: { type: 'float32' as const, dims: [1, 2], data: Float32Array.from([v, v]) } }, rows: 1, outputNames: ['y'] });
    const poisoned = batcher.submit(x(-1));
    await assert.rejects(poisoned, (e: unknown) => e instanceof WorkerCrashedError && /crashy\/1 could not finish the request: its worker thread exited \(code 3\)/.test((e as Error).message));
    await waitFor(async () => pool.size === 1, 10_000);
    const after = await batcher.submit(x(7));
    assert.deepEqual(Array.from(after.y!.data as Float32Array), [7, 7]);
  } finally {
    await pool.close();
  }
});

test('a run that hangs past run_timeout_ms ends its worker: the request gets a clear error and serving goes on', async () => {
  const { pool } = await fixturePool('hangs/1', 200);
  try {
    const x = (v: number) => ({ x: { type: 'float32' as const, dims: [1, 2], data: Float32Array.from([v, v]) } });
    await assert.rejects(pool.run(x(999), ['y']), (e: unknown) => e instanceof WorkerCrashedError && /a run took longer than run_timeout_ms \(200 ms\)/.test((e as Error).message));
    await waitFor(async () => pool.size === 1, 10_000);
    assert.deepEqual(Array.from((await pool.run(x(3), ['y'])).y!.data as Float32Array), [3, 3]);
  } finally {
    await pool.close();
  }
});

test('a worker that keeps crashing is given up on after 5 crashes, and the pool says so', async () => {
  const { pool } = await fixturePool('crashy/2');
  const exhausted = new Promise<string>((resolve) => pool.once('exhausted', resolve));
  try {
    const poison = { x: { type: 'float32' as const, dims: [1, 2], data: Float32Array.from([-1, -1]) } };
    for (let i = 0; i < 6; i++) {
      await waitFor(async () => pool.size === 1, 10_000);
      await assert.rejects(pool.run({ x: { ...poison.x, data: poison.x.data.slice() } }, ['y']), WorkerCrashedError);
    }
    assert.match(await exhausted, /crashed 6 times in 3 minutes; not restarting them/);
    assert.equal(pool.size, 0);
  } finally {
    await pool.close();
  }
});
