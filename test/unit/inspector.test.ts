// The model inspector's page, from a real ONNX summary of the demo model: file, opset, producer,
// operators, parameters, tensors, provider, instances, batching and breaker settings and state.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelInspection, VersionStatus } from '../../common/api.js';
import { summarizeOnnx } from '../../agent/src/onnx/onnxSummary.js';
import { DEFAULT_BREAKER_SETTINGS } from '../../agent/src/resilience/breakerSettings.js';
import { formatBytes, formatCount, inspectionMarkdown } from '../../extension/src/inspector/inspectionMarkdown.js';
import { BUNDLED_MODELS } from '../helpers/agentProcess.js';

const file = join(BUNDLED_MODELS, 'digits', '1', 'model.onnx');
const inspection: ModelInspection = {
  model: 'digits',
  version: '1',
  file: 'digits/1/model.onnx',
  file_bytes: statSync(file).size,
  onnx: summarizeOnnx(readFileSync(file)),
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
  provider: 'cpu',
  instances: 1,
  config: {
    max_batch_size: 64,
    instance_count: 1,
    execution_providers: ['cuda', 'cpu'],
    dynamic_batching: { max_queue_delay_ms: 0, preferred_batch_size: [], max_queue_size: 1024, default_timeout_ms: 0 },
    breaker: { ...DEFAULT_BREAKER_SETTINGS },
    run_timeout_ms: 60000,
    intra_op_threads: 1,
  },
};

test('the inspector page holds the graph, the tensors and the serving configuration', () => {
  const status = {
    version: '1',
    state: 'ready',
    is_default: true,
    instances: 1,
    batching: { max_batch_size: 64, queue_depth: 0, in_flight_batches: 0, recent_batch_sizes: [] },
    breaker: { state: 'closed', forced: false, consecutive_failures: 0, window: { calls: 3, failures: 0, slow: 0, failure_rate: 0, slow_rate: 0 }, trips: 0, opened_at: null, next_trial_at: null, last_reason: null, totals: { successes: 3, failures: 0, slow: 0, rejected: 0 } },
  } as VersionStatus;
  const md = inspectionMarkdown(inspection, status);
  assert.match(md, /^# digits v1$/m);
  assert.match(md, /^State: \*\*ready\*\* \(default version\)$/m);
  assert.match(md, /^\| file \| `digits\/1\/model\.onnx` \(\d+\.\d+ KiB\) \|$/m);
  assert.match(md, /^\| producer \| inferscope-train 1 \|$/m);
  assert.match(md, /^\| opset \| ai\.onnx 17 \|$/m);
  assert.match(md, /^\| parameters \| 7,850 in 2 initializers \|$/m);
  assert.match(md, /^\| input \| `pixels` \| FP32 \| \[-1, 784\] \|$/m);
  assert.match(md, /^\| MatMul \| 1 \|$/m);
  assert.match(md, /Execution provider \*\*cpu\*\* \(tried in order: cuda, cpu\), 1 instance running/);
  assert.match(md, /^\| `max_queue_size` \| 1024 \|$/m);
  assert.match(md, /^\| `consecutive_failures` \| 5 \|$/m);
  assert.match(md, /^- Breaker: closed, tripped 0 time\(s\)$/m);
});

test('a model without a batch dimension says so instead of a batching table; sizes and counts read well', () => {
  const md = inspectionMarkdown({ ...inspection, config: { ...inspection.config, max_batch_size: 0, dynamic_batching: null } });
  assert.match(md, /`max_batch_size` 0: no batch dimension/);
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
  assert.equal(formatCount(9999), '9,999');
  assert.equal(formatCount(124_500_000), '124,500,000 (124.5 M)');
});
