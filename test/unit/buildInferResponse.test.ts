import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildInferResponse } from '../../agent/src/protocol/buildInferResponse.js';
import { fromFloat16Bits, toFloat16Bits } from '../../agent/src/inference/tensorTypes.js';

const ctx = {
  model: 'digits',
  version: '2',
  id: 'req-1',
  outputs: [{ name: 'probs', datatype: 'FP32' as const, shape: [-1, 3] }],
  labels: ['cat', 'dog', 'eel'],
};
const probs = { type: 'float32' as const, dims: [2, 3], data: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]) };

test('plain outputs keep shape, datatype and values', () => {
  const r = buildInferResponse(ctx, [{ name: 'probs' }], { probs }).response;
  assert.deepEqual(r, {
    model_name: 'digits',
    model_version: '2',
    id: 'req-1',
    outputs: [{ name: 'probs', datatype: 'FP32', shape: [2, 3], data: Array.from(probs.data) }],
  });
});

test('classification returns the top k per row as "<score>:<index>:<label>", ties by index', () => {
  const r = buildInferResponse(ctx, [{ name: 'probs', classification: 2 }], { probs }).response;
  assert.deepEqual(r.outputs[0], {
    name: 'probs',
    datatype: 'BYTES',
    shape: [2, 2],
    data: ['0.700000:1:dog', '0.200000:2:eel', '0.500000:0:cat', '0.250000:1:dog'],
  });
});

test('classification without labels gives "<score>:<index>"', () => {
  const { labels: _labels, ...noLabels } = ctx;
  const r = buildInferResponse(noLabels, [{ name: 'probs', classification: 1 }], { probs }).response;
  assert.deepEqual(r.outputs[0]!.data, ['0.700000:1', '0.500000:0']);
});

test('float16 conversion round-trips representable values and rounds others', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 2 ** -24, Infinity]) assert.equal(fromFloat16Bits(toFloat16Bits(v)), v);
  assert.equal(fromFloat16Bits(toFloat16Bits(0.1)), 0.0999755859375);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
  assert.equal(fromFloat16Bits(toFloat16Bits(1e6)), Infinity);
});
