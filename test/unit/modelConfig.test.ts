import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../agent/src/errors.js';
import { parseModelConfig, providerNames, providerSpecs } from '../../agent/src/repository/modelConfig.js';
import { modelDefaultsSchema } from '../../agent/src/repository/modelDefaults.js';

const FILE = 'models/m/config.json';
const parse = (value: unknown) => parseModelConfig(JSON.stringify(value), FILE, 'm');

test('a minimal config gets the documented defaults', () => {
  const c = parse({});
  assert.equal(c.max_batch_size, 0);
  assert.equal(c.instance_count, 1);
  assert.deepEqual(c.execution_providers, ['cpu']);
  assert.equal(c.platform, 'onnxruntime_onnx');
  assert.equal(c.dynamic_batching, undefined);
});

test('dynamic_batching fields get defaults and are kept', () => {
  const c = parse({ max_batch_size: 8, dynamic_batching: { max_queue_delay_ms: 2, preferred_batch_size: [4, 8] } });
  assert.deepEqual(c.dynamic_batching, { max_queue_delay_ms: 2, preferred_batch_size: [4, 8], max_queue_size: 0, default_timeout_ms: 0 });
});

const bad: [string, unknown, RegExp][] = [
  ['unknown field (typo)', { max_batch_sise: 4 }, /unknown field 'max_batch_sise'/],
  ['unknown nested field', { dynamic_batching: { max_delay: 1 } }, /unknown field 'dynamic_batching\.max_delay'/],
  ['negative batch size', { max_batch_size: -1 }, /field 'max_batch_size': expected a non-negative integer/],
  ['fractional instance count', { instance_count: 1.5 }, /field 'instance_count'/],
  ['unknown provider', { execution_providers: ['rocm'] }, /field 'execution_providers\.0': expected one of webgpu, cuda, tensorrt, dml, coreml, cpu/],
  ['unknown provider in an object', { execution_providers: [{ name: 'rocm' }] }, /field 'execution_providers\.0\.name': expected \{"name": one of webgpu, cuda, tensorrt, dml, coreml, cpu, "options": \{…\}\}/],
  ['an option the provider does not have, by its name', { execution_providers: [{ name: 'webgpu', options: { deviceId: 0 } }, 'cpu'] }, /unknown field 'execution_providers\.0\.options\.deviceId'/],
  ['a provider option of the wrong kind', { execution_providers: [{ name: 'webgpu', options: { preferredLayout: 'HWC' } }] }, /field 'execution_providers\.0\.options\.preferredLayout': .*"NCHW"\|"NHWC"/],
  ["webgpu's validationMode 'disabled' (it can crash the process)", { execution_providers: [{ name: 'webgpu', options: { validationMode: 'disabled' } }] }, /execution_providers\.0\.options\.validationMode/],
  ['a field beside name and options', { execution_providers: [{ name: 'cuda', device: 1 }] }, /unknown field 'execution_providers\.0\.device'/],
  ['empty providers', { execution_providers: [] }, /field 'execution_providers': expected at least one/],
  ['name differs from folder', { name: 'other' }, /field 'name': "other" must match the folder name "m"/],
  ['preferred size above max', { max_batch_size: 4, dynamic_batching: { preferred_batch_size: [8] } }, /preferred_batch_size': 8 exceeds max_batch_size 4/],
  ['labels not strings', { labels: [1, 2] }, /field 'labels\.0'/],
  ['a breaker window smaller than its minimum calls', { breaker: { trip: 'failure_rate', window_size: 5 } }, /field 'breaker\.minimum_calls': minimum_calls must not exceed window_size/],
  ['a queue delay setTimeout cannot hold', { dynamic_batching: { max_queue_delay_ms: 3e9 } }, /field 'dynamic_batching\.max_queue_delay_ms': expected milliseconds from 0 to 60000/],
  ['a redis source without a URL scheme', { features: { source: 'redis', url: 'localhost:6379' } }, /field 'features\.url': expected a redis:\/\/ or rediss:\/\/ URL/],
  ['wrong platform', { platform: 'tensorflow_savedmodel' }, /field 'platform': expected "onnxruntime_onnx"/],
];
for (const [what, value, message] of bad) {
  test(`rejects ${what}, naming the file and field`, () => {
    assert.throws(() => parse(value), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${FILE}: `), err.message);
      assert.match(err.message, message);
      return true;
    });
  });
}

test('execution providers: names, or names with their session options, kept in order', () => {
  const c = parse({ execution_providers: [{ name: 'webgpu', options: { preferredLayout: 'NHWC', storageBufferCacheMode: 'simple' } }, { name: 'cuda', options: { deviceId: 1 } }, 'dml', 'coreml', { name: 'cpu' }] });
  assert.deepEqual(c.execution_providers, [{ name: 'webgpu', options: { preferredLayout: 'NHWC', storageBufferCacheMode: 'simple' } }, { name: 'cuda', options: { deviceId: 1 } }, 'dml', 'coreml', { name: 'cpu' }]);
  assert.deepEqual(providerSpecs(c.execution_providers), [
    { name: 'webgpu', options: { preferredLayout: 'NHWC', storageBufferCacheMode: 'simple' } },
    { name: 'cuda', options: { deviceId: 1 } },
    { name: 'dml', options: {} },
    { name: 'coreml', options: {} },
    { name: 'cpu', options: {} },
  ]);
  assert.deepEqual(providerNames(c.execution_providers), ['webgpu', 'cuda', 'dml', 'coreml', 'cpu']);
});

test('invalid JSON is reported with the file', () => {
  assert.throws(() => parseModelConfig('{ "max_batch_size": ', FILE, 'm'), /models\/m\/config\.json: not valid JSON/);
});

test('model_defaults fill in batching and cache settings a config.json leaves out; the model wins', () => {
  const defaults = { dynamic_batching: { max_queue_delay_ms: 2, max_queue_size: 7 }, feature_cache: { ttl_ms: 1000 } };
  const batching = parseModelConfig(JSON.stringify({ max_batch_size: 8, dynamic_batching: { max_queue_size: 99 } }), 'c.json', 'm', defaults);
  assert.equal(batching.dynamic_batching?.max_queue_delay_ms, 2);
  assert.equal(batching.dynamic_batching?.max_queue_size, 99, "the model's own setting wins");
  const implicit = parseModelConfig(JSON.stringify({ max_batch_size: 8 }), 'c.json', 'm', defaults);
  assert.equal(implicit.dynamic_batching?.max_queue_size, 7);
  const unbatched = parseModelConfig(JSON.stringify({ max_batch_size: 0 }), 'c.json', 'm', defaults);
  assert.equal(unbatched.dynamic_batching, undefined, 'no batching defaults for a model that does not batch');
  const cached = parseModelConfig(JSON.stringify({ features: { source: 'file', path: 'f.json', max_entries: 5 } }), 'c.json', 'm', defaults);
  assert.equal(cached.features?.ttl_ms, 1000);
  assert.equal(cached.features?.max_entries, 5);
  assert.equal(parseModelConfig('{}', 'c.json', 'm', defaults).features, undefined);
  assert.throws(() => modelDefaultsSchema.parse({ dynamic_batching: { max_queue_size: -1 } }));
});
