// Issue 16, item 10: a version is ready only while it has an inference instance to run on. The
// model manager with the stand-in worker (test/fixtures/crashingWorker.js), which crashes on
// request as a native crash in ONNX Runtime would.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FaultInjector } from '../../agent/src/faults/faultInjector.js';
import { DeviceThreads } from '../../agent/src/inference/deviceThread.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import { ModelManager } from '../../agent/src/models/modelManager.js';
import { ROOT, waitFor } from '../helpers/agentProcess.js';

const repo = mkdtempSync(join(tmpdir(), 'inferscope-liveness-'));
after(() => rmSync(repo, { recursive: true, force: true }));

function model(name: string, modelFile: object, maxBatchSize: number): void {
  mkdirSync(join(repo, name, '1'), { recursive: true });
  writeFileSync(join(repo, name, '1', 'model.onnx'), JSON.stringify(modelFile));
  writeFileSync(join(repo, name, 'config.json'), JSON.stringify({ max_batch_size: maxBatchSize }));
}

test('a version whose instance dies in warm-up fails to load; one whose instance dies later is not ready until replaced', async () => {
  model('oom', { crash_above_rows: 8 }, 32); // warm-up runs 1, 2, 4, 8, 16, 32 rows
  model('fine', {}, 32);
  const manager = new ModelManager({
    repository: repo,
    workerFile: join(ROOT, 'test', 'fixtures', 'crashingWorker.js'),
    deviceThreads: new DeviceThreads(join(ROOT, 'dist', 'agent', 'deviceWorker.js')),
    logger: silentLogger,
    faults: new FaultInjector(),
    limits: { maxElementsPerInput: 1 << 20, maxElementsPerOutput: 1 << 20 },
  });
  try {
    manager.scan();
    await manager.loadAll();
    const oom = manager.status().find((m) => m.name === 'oom')!.versions[0]!;
    assert.equal(oom.state, 'failed');
    assert.match(oom.reason ?? '', /an inference instance crashed while warming up \(.*exited \(code 3\).*\); lower max_batch_size or check the model/);
    assert.equal(manager.isReady('oom'), false);
    assert.equal(manager.isReady('fine'), true);

    // A run that kills the worker: until the pool has replaced it, the version is not ready.
    const fine = manager.resolve('fine');
    const crash = fine.pool.run({ x: { type: 'float32', dims: [1, 2], data: new Float32Array([-1, 0]) } }, ['y']);
    await assert.rejects(crash, /exited \(code 3\)/);
    assert.equal(fine.pool.size, 0);
    assert.equal(manager.isReady('fine'), false);
    assert.deepEqual(
      manager.index().find((e) => e.name === 'fine'),
      { name: 'fine', version: '1', state: 'UNAVAILABLE', reason: 'no inference instance is running (a crashed one is being replaced)' },
    );
    await waitFor(() => fine.pool.size === 1, 10_000);
    assert.equal(manager.isReady('fine'), true);
    assert.equal(manager.index().find((e) => e.name === 'fine')!.state, 'READY');
  } finally {
    await manager.close();
  }
});
