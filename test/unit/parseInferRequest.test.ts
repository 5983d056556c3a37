import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../../agent/src/errors.js';
import { parseInferRequest, type InferTarget } from '../../agent/src/protocol/parseInferRequest.js';

const limits = { maxInputs: 8, maxElements: 10_000 };
const digits: InferTarget = {
  label: 'digits/1',
  url: { model: 'digits' },
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 3] }],
  maxBatchSize: 8,
};
const row = [0, 0.5, 1, 0.25];

function rejects(body: unknown, message: RegExp, target = digits): void {
  assert.throws(() => parseInferRequest(body, target, limits), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

test('flat and nested data give the same tensor', () => {
  const flat = parseInferRequest({ inputs: [{ name: 'pixels', shape: [2, 4], datatype: 'FP32', data: [...row, ...row] }] }, digits, limits);
  const nested = parseInferRequest({ inputs: [{ name: 'pixels', shape: [2, 4], datatype: 'FP32', data: [row, row] }] }, digits, limits);
  assert.deepEqual(flat.feeds.pixels, nested.feeds.pixels);
  assert.equal(flat.batchSize, 2);
  assert.ok(flat.feeds.pixels!.data instanceof Float32Array);
  assert.deepEqual(Array.from(flat.feeds.pixels!.data as Float32Array), [...row, ...row]);
  assert.deepEqual(flat.outputs, [{ name: 'probs' }]);
});

test('id, parameters and the classification extension are carried', () => {
  const r = parseInferRequest(
    { id: 'r1', parameters: { tag: 'x' }, inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }], outputs: [{ name: 'probs', parameters: { classification: 2 } }] },
    digits,
    limits,
  );
  assert.equal(r.id, 'r1');
  assert.deepEqual(r.parameters, { tag: 'x' });
  assert.deepEqual(r.outputs, [{ name: 'probs', classification: 2 }]);
});

test('integer, boolean and string datatypes are converted exactly', () => {
  const target: InferTarget = {
    label: 'mixed/1',
    inputs: [
      { name: 'i64', datatype: 'INT64', shape: [3] },
      { name: 'i32', datatype: 'INT32', shape: [2] },
      { name: 'b', datatype: 'BOOL', shape: [2] },
      { name: 's', datatype: 'BYTES', shape: [2] },
      { name: 'd', datatype: 'FP64', shape: [1] },
    ],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }],
    maxBatchSize: 0,
  };
  const r = parseInferRequest(
    {
      inputs: [
        { name: 'i64', shape: [3], datatype: 'INT64', data: [1, -2, '9007199254740993'] },
        { name: 'i32', shape: [2], datatype: 'INT32', data: [2147483647, -2147483648] },
        { name: 'b', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 's', shape: [2], datatype: 'BYTES', data: ['a', 'b'] },
        { name: 'd', shape: [1], datatype: 'FP64', data: [0.1] },
      ],
    },
    target,
    limits,
  );
  assert.deepEqual(Array.from(r.feeds.i64!.data as BigInt64Array), [1n, -2n, 9007199254740993n]);
  assert.equal(r.feeds.i64!.type, 'int64');
  assert.deepEqual(Array.from(r.feeds.i32!.data as Int32Array), [2147483647, -2147483648]);
  assert.deepEqual(Array.from(r.feeds.b!.data as Uint8Array), [1, 0]);
  assert.deepEqual(r.feeds.s!.data, ['a', 'b']);
  assert.equal((r.feeds.d!.data as Float64Array)[0], 0.1);
  assert.equal(r.batchSize, 1);
  rejects({ inputs: [{ name: 'i32', shape: [2], datatype: 'INT32', data: [1, 2 ** 31] }] }, /data element 1 is 2147483648; INT32 needs an integer in/, target);
  rejects({ inputs: [{ name: 'i64', shape: [3], datatype: 'INT64', data: [1, 2, 2 ** 60] }] }, /INT64 needs an integer \(a JSON number up to 2\^53, or a decimal string\)/, target);
  rejects({ inputs: [{ name: 'b', shape: [2], datatype: 'BOOL', data: [1, 0] }] }, /BOOL needs true or false/, target);
  rejects({ inputs: [{ name: 's', shape: [2], datatype: 'BYTES', data: ['a', 1] }] }, /BYTES needs a string/, target);
});

const cases: [string, unknown, RegExp][] = [
  ['body not an object', [1, 2], /request body must be a JSON object/],
  ['no inputs', {}, /'inputs' must be a non-empty array; digits\/1 takes: pixels FP32 \[-1, 4\]/],
  ['empty inputs', { inputs: [] }, /'inputs' must be a non-empty array/],
  ['unknown top-level field', { input: [] }, /unknown field 'input' in the request/],
  ['id not a string', { id: 5, inputs: [] }, /'id' must be a string/],
  ['input not an object', { inputs: ['pixels'] }, /inputs\[0\] must be an object/],
  ['unknown input name', { inputs: [{ name: 'image', shape: [1, 4], datatype: 'FP32', data: row }] }, /digits\/1 has no input 'image'; its inputs are: pixels FP32/],
  ['wrong datatype', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'INT64', data: row }] }, /takes datatype FP32, not INT64/],
  ['unknown datatype', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FLOAT', data: row }] }, /datatype "FLOAT"; use one of BOOL/],
  ['shape not integers', { inputs: [{ name: 'pixels', shape: [1, '4'], datatype: 'FP32', data: row }] }, /'shape' as an array of non-negative integers, e.g. \[1, 4\]/],
  ['wrong rank', { inputs: [{ name: 'pixels', shape: [4], datatype: 'FP32', data: row }] }, /has 2 dimensions \[-1, 4\]; got shape \[4\]/],
  ['wrong fixed dim', { inputs: [{ name: 'pixels', shape: [1, 5], datatype: 'FP32', data: [...row, 1] }] }, /needs shape \[-1, 4\] \(-1 = any\); got \[1, 5\]/],
  ['batch too large', { inputs: [{ name: 'pixels', shape: [9, 4], datatype: 'FP32', data: [] }] }, /batch of 9 exceeds max_batch_size 8/],
  ['zero batch', { inputs: [{ name: 'pixels', shape: [0, 4], datatype: 'FP32', data: [] }] }, /batch dimension \(first\) must be at least 1/],
  ['too few values', { inputs: [{ name: 'pixels', shape: [2, 4], datatype: 'FP32', data: row }] }, /has 4 values in 'data', but its shape needs 8/],
  ['too many values', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: [...row, ...row] }] }, /has 8 values in 'data', but its shape needs 4/],
  ['string in float data', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: [0, 'x', 0, 0] }] }, /data element 1 is "x"; FP32 needs a number/],
  ['null in data', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: [0, null, 0, 0] }] }, /data element 1 is null/],
  ['nested too deep', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: [[[0, 0, 0, 0]]] }] }, /nested deeper than the tensor's 2 dimensions/],
  ['data missing', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32' }] }, /needs 'data' as an array/],
  ['duplicate input', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }, { name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }] }, /input 'pixels' is given twice/],
  ['unknown output', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }], outputs: [{ name: 'logits' }] }, /has no output 'logits'; its outputs are: probs FP32/],
  ['classification not positive', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }], outputs: [{ name: 'probs', parameters: { classification: 0 } }] }, /'classification' must be a positive integer/],
  ['classification above class count', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }], outputs: [{ name: 'probs', parameters: { classification: 4 } }] }, /has 3 classes; 'classification' must be at most 3/],
  ['binary size without a binary part', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] }, /has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header/],
  ['both data and a binary size', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: [], parameters: { binary_data_size: 16 } }] }, /has both 'data' and parameters.binary_data_size; send one/],
  ['model_name of another model', { model_name: 'other', inputs: [] }, /'model_name' in the body is "other", but the URL names model "digits"/],
  ['timeout in milliseconds below zero', { parameters: { timeout: -1 }, inputs: [] }, /parameter 'timeout' must be microseconds/],
  ['binary_data on an output not a boolean', { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }], outputs: [{ name: 'probs', parameters: { binary_data: 1 } }] }, /'binary_data' must be true or false/],
  ['parameters not an object', { parameters: 'x', inputs: [] }, /'parameters' must be a JSON object/],
];
for (const [what, body, message] of cases) {
  test(`rejects ${what}`, () => rejects(body, message));
}

test('the element limit applies before the data is read', () => {
  assert.throws(
    () => parseInferRequest({ inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }] }, digits, { maxInputs: 8, maxElements: 3 }),
    /has 4 elements; at most 3 are accepted per input/,
  );
});

test('missing inputs are named', () => {
  const two: InferTarget = { ...digits, inputs: [...digits.inputs, { name: 'mask', datatype: 'BOOL', shape: [-1, 4] }] };
  rejects({ inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }] }, /missing input 'mask' for digits\/1/, two);
  rejects(
    { inputs: [{ name: 'pixels', shape: [1, 4], datatype: 'FP32', data: row }, { name: 'mask', shape: [2, 4], datatype: 'BOOL', data: Array(8).fill(true) }] },
    /inputs disagree on the batch size \(first dimension\): 1 vs 2/,
    two,
  );
});

test('every dimension is bounded, not only their product (a zero dimension hides a huge one)', () => {
  const wide: InferTarget = { ...digits, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, -1] }] };
  rejects({ inputs: [{ name: 'x', shape: [1, 9007199254740991], datatype: 'FP32', data: [] }] }, /input 'x' has 9007199254740991 elements; at most 10000 are accepted per input/, wide);
  const noBatch: InferTarget = { ...wide, maxBatchSize: 0 };
  rejects({ inputs: [{ name: 'x', shape: [0, 9007199254740991], datatype: 'FP32', data: [] }] }, /has a dimension of 9007199254740991/, noBatch);
});
