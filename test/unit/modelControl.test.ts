// The load and unload rules REST and gRPC share: which parameters a load takes, what a running
// canary allows, the index's ready filter. The model manager is a recorder: the real one is
// exercised by test/integration/modelControl.test.ts and grpcTriton.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Canary, RepositoryIndexEntry } from '../../common/api.js';
import { ConflictError, InvalidInputError } from '../../agent/src/errors.js';
import { ModelControl, configTextOf } from '../../agent/src/models/modelControl.js';
import type { LoadOptions } from '../../agent/src/models/modelManager.js';

function setup(canaries: Partial<Canary>[] = [], entries: RepositoryIndexEntry[] = []) {
  const calls: [string, string, LoadOptions?][] = [];
  const models = {
    load: async (name: string, options?: LoadOptions) => void calls.push(['load', name, options]),
    unload: async (name: string) => void calls.push(['unload', name]),
    index: () => entries,
  };
  const control = new ModelControl(models, { list: () => canaries as Canary[] });
  return { control, calls };
}

test('a load passes `config` on as the config text, and nothing else', async () => {
  const { control, calls } = setup();
  await control.load('digits', { config: '{"max_batch_size":8}' });
  await control.load('digits');
  assert.deepEqual(calls, [
    ['load', 'digits', { configText: '{"max_batch_size":8}' }],
    ['load', 'digits', {}],
  ]);
});

test('file: parameters, unknown parameters and a config that is not text are refused before anything loads', async () => {
  const { control, calls } = setup();
  const refused = async (params: Record<string, any>, message: RegExp) => {
    await assert.rejects(control.load('digits', params), (e: Error) => e instanceof InvalidInputError && message.test(e.message));
  };
  await refused({ 'file:1/model.onnx': new Uint8Array([1]), config: '{}' }, /model files in the request \(file:1\/model.onnx\) are not supported/);
  await refused({ 'file:1/model.onnx': 'aGk=' }, /not supported; put them in the repository folder/);
  await refused({ unload_dependents: true }, /unknown load parameter unload_dependents; Inferscope takes 'config'/);
  await refused({ a: 1, b: 2 }, /unknown load parameters a, b/);
  await refused({ config: 5 }, /parameter 'config' must be the config.json text, as a string/);
  await refused({ config: new TextEncoder().encode('{}') }, /must be the config.json text/);
  assert.deepEqual(calls, []);
  assert.equal(configTextOf({}), undefined);
});

test("a running canary's versions are kept by a load, and its model cannot be unloaded; other models and ended canaries do not count", async () => {
  const { control, calls } = setup([
    { id: 'c-1', model: 'digits', baseline: '1', candidate: '2', state: 'running' },
    { id: 'c-0', model: 'other', baseline: '1', candidate: '3', state: 'promoted' },
  ]);
  await control.load('digits');
  await control.load('other');
  await assert.rejects(control.unload('digits'), (e: Error) => e instanceof ConflictError && /canary c-1 is running on digits; abort it \(DELETE \/api\/v1\/canaries\/c-1\) before unloading/.test(e.message));
  await control.unload('other');
  assert.deepEqual(calls, [
    ['load', 'digits', { keepVersions: ['1', '2'] }],
    ['load', 'other', {}],
    ['unload', 'other'],
  ]);
});

test('the index lists every version, or only the READY ones', () => {
  const entries: RepositoryIndexEntry[] = [
    { name: 'digits', version: '1', state: 'READY' },
    { name: 'digits', version: '2', state: 'UNAVAILABLE', reason: 'unloaded by request' },
    { name: 'slow', version: '1', state: 'LOADING' },
  ];
  const { control } = setup([], entries);
  assert.deepEqual(control.index(), entries);
  assert.deepEqual(control.index(true), [entries[0]]);
});
