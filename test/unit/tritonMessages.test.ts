// triton_extensions.proto against Triton's own field numbers (test/helpers/tritonSchema.ts), and
// the REST JSON of the model configuration and statistics through our gRPC encoding: what a client
// built from Triton's definitions decodes must be the REST answer, field by field, for every
// datatype, CPU and GPU instances, with and without batching.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Root } from 'protobufjs';
import type { Datatype } from '../../common/api.js';
import type { DynamicBatcher } from '../../agent/src/batching/dynamicBatcher.js';
import { inferenceServiceDefinition } from '../../agent/src/grpc/protoFiles.js';
import { TRITON_TYPE, tritonModelConfig } from '../../agent/src/protocol/tritonModelConfig.js';
import { modelConfigSchema } from '../../agent/src/repository/modelConfig.js';
import { InferenceStatistics } from '../../agent/src/telemetry/inferenceStatistics.js';
import { assertMatchesTriton, assertSameAsJson, decodeWithTriton } from '../helpers/tritonSchema.js';

const PROTO_DIR = resolve(__dirname, '..', '..', 'agent', 'proto');
const service = inferenceServiceDefinition(PROTO_DIR);

test("every message, field number, type and enum value in triton_extensions.proto is Triton's", () => {
  assertMatchesTriton(new Root().loadSync(join(PROTO_DIR, 'triton_extensions.proto'), { keepCase: true }));
});

const DATATYPES = Object.keys(TRITON_TYPE) as Datatype[];

function servedVersion(maxBatch: number, provider: string) {
  const config = modelConfigSchema.parse({
    max_batch_size: maxBatch,
    instance_count: 3,
    execution_providers: [provider, 'cpu'],
    default_version: '2',
    dynamic_batching: { max_queue_delay_ms: 1.5, preferred_batch_size: [4, 8], max_queue_size: 100, default_timeout_ms: 250 },
  });
  const batch = maxBatch > 0 ? [-1] : [];
  return {
    model: 'm',
    config,
    inputs: DATATYPES.map((d, i) => ({ name: `in_${d}`, datatype: d, shape: [...batch, i + 1, -1] })),
    outputs: DATATYPES.map((d) => ({ name: `out_${d}`, datatype: d, shape: [...batch, 3] })),
    provider,
  };
}

for (const [maxBatch, provider] of [
  [8, 'cpu'],
  [8, 'cuda'],
  [0, 'cpu'],
] as const) {
  test(`ModelConfig (max_batch_size ${maxBatch}, ${provider}): the REST JSON, sent over gRPC, decodes with Triton's numbers to the same values`, () => {
    const json = tritonModelConfig(servedVersion(maxBatch, provider));
    const bytes = service.ModelConfig!.responseSerialize({ config: json });
    const decoded = decodeWithTriton('ModelConfigResponse', bytes).config;
    const leftOut = assertSameAsJson(decoded, json, 'config');
    // Only what the .proto leaves out, all of it empty in the JSON.
    const expected = ['config.runtime', 'config.batch_input', 'config.batch_output', 'config.model_warmup', 'config.instance_group[0].secondary_devices'];
    assert.deepEqual(leftOut.sort(), expected.sort());
    // Enum values arrive as sent (an unknown name would have become the zero value silently).
    assert.deepEqual(decoded.input.map((t: { data_type: string }) => t.data_type), DATATYPES.map((d) => TRITON_TYPE[d]));
    assert.equal(decoded.instance_group[0].kind, provider === 'cuda' ? 'KIND_GPU' : 'KIND_CPU');
    if (maxBatch > 0) assert.equal(decoded.dynamic_batching.max_queue_delay_microseconds, '1500');
    else assert.equal(decoded.dynamic_batching, null); // unset: Triton reports none for models that do not batch
  });
}

test("ModelStatistics: the REST JSON, sent over gRPC, decodes with Triton's numbers to the same values", () => {
  const stats = new InferenceStatistics(() => 1_700_000_000_123);
  stats.addVersion('a', '1');
  const batcher = new EventEmitter();
  stats.observeBatcher('b', '2', batcher as unknown as DynamicBatcher);
  stats.onInference({ model: 'b', version: '2', outcome: 'success', durationS: 0.0123, modelFailure: false });
  stats.onInference({ model: 'b', version: '2', outcome: 'invalid_input', durationS: 0.0004, modelFailure: false });
  batcher.emit('dequeued', 0.002);
  batcher.emit('batch', { rows: 8, requests: 2, inputS: 0.001, inferS: 0.004, outputS: 0.0005, computeS: 0.005, ok: true });
  batcher.emit('batch', { rows: 1, requests: 1, inputS: 0.0002, inferS: 0.001, outputS: 0.0001, computeS: 0.0012, ok: true });
  const json = { model_stats: stats.snapshot() };
  assert.equal(json.model_stats.length, 2);
  const decoded = decodeWithTriton('ModelStatisticsResponse', service.ModelStatistics!.responseSerialize(json));
  assert.deepEqual(assertSameAsJson(decoded, json), []);
  assert.equal(decoded.model_stats[1].last_inference, '1700000000123');
  assert.equal(decoded.model_stats[1].inference_stats.fail.ns, '400000');
});
