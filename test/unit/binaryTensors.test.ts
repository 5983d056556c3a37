// Triton's binary tensor data extension, as its document describes it (little-endian, row major,
// BOOL one byte, BYTES a 4-byte little-endian length before each element), on the pure codecs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidInputError } from '../../agent/src/errors.js';
import { decodeBinaryTensor, encodeBinaryTensor } from '../../agent/src/protocol/binaryTensors.js';
import { buildInferResponse } from '../../agent/src/protocol/buildInferResponse.js';
import { parseInferRequest, type InferTarget } from '../../agent/src/protocol/parseInferRequest.js';
import { splitBody } from '../../agent/src/server/inferRoute.js';

const limits = { maxInputs: 8, maxElements: 10_000 };
const target: InferTarget = {
  label: 'mixed/1',
  url: { model: 'mixed' },
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 'ids', datatype: 'INT64', shape: [-1, 2] },
    { name: 'mask', datatype: 'BOOL', shape: [-1, 2] },
    { name: 'text', datatype: 'BYTES', shape: [-1, 2] },
  ],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
  maxBatchSize: 4,
};

/** What tritonclient's serialize_byte_tensor writes: struct.pack("<I", len) + bytes per element. */
function bytesElements(items: string[]): Buffer {
  return Buffer.concat(items.flatMap((s) => {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return [n, b];
  }));
}

test('inputs take their bytes from the binary part in order, decoded into typed arrays', () => {
  const x = Buffer.alloc(8);
  x.writeFloatLE(1.5, 0);
  x.writeFloatLE(-2.25, 4);
  const ids = Buffer.alloc(16);
  ids.writeBigInt64LE(9007199254740993n, 0);
  ids.writeBigInt64LE(-7n, 8);
  const mask = Buffer.from([1, 0]);
  const text = bytesElements(['ab', 'xyz']);
  const binary = Buffer.concat([x, ids, mask, text]);
  const input = (name: string, datatype: string, size: number) => ({ name, shape: [1, 2], datatype, parameters: { binary_data_size: size } });
  const r = parseInferRequest(
    { inputs: [input('x', 'FP32', 8), input('ids', 'INT64', 16), input('mask', 'BOOL', 2), input('text', 'BYTES', text.length)], parameters: { binary_data_output: true } },
    target,
    limits,
    binary,
  );
  assert.deepEqual(Array.from(r.feeds.x!.data as Float32Array), [1.5, -2.25]);
  assert.deepEqual(Array.from(r.feeds.ids!.data as BigInt64Array), [9007199254740993n, -7n]);
  assert.deepEqual(Array.from(r.feeds.mask!.data as Uint8Array), [1, 0]);
  assert.deepEqual(r.feeds.text!.data, ['ab', 'xyz']);
  assert.deepEqual(r.outputs, [{ name: 'y', binary: true }]);
  // The typed arrays own fresh buffers: they can be transferred to a worker without taking the body.
  assert.equal((r.feeds.x!.data as Float32Array).buffer.byteLength, 8);
});

test('sizes that disagree with shape × datatype, and stray bytes, are 400s naming the input', () => {
  const only = (name: string): InferTarget => ({ ...target, inputs: target.inputs.filter((i) => i.name === name) });
  const rejects = (body: { inputs: { name: string }[] }, binary: Uint8Array, message: RegExp) =>
    assert.throws(() => parseInferRequest(body, only(body.inputs[0]!.name), limits, binary), (e: unknown) => e instanceof InvalidInputError && message.test(e.message));
  const x = (size: number) => ({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: size } }], model_name: 'mixed' });
  rejects(x(4), Buffer.alloc(4), /input 'x': binary_data_size is 4 bytes, but its shape needs 2 × FP32 = 8 bytes/);
  rejects(x(8), Buffer.alloc(4), /input 'x': binary_data_size is 8 bytes, but only 4 bytes of binary data are left/);
  rejects(x(8), Buffer.alloc(12), /the body has 4 bytes of binary data after the inputs' binary_data_size bytes/);
  rejects(x(-1), Buffer.alloc(8), /binary_data_size must be a non-negative integer/);
  const text = { inputs: [{ name: 'text', shape: [1, 2], datatype: 'BYTES', parameters: { binary_data_size: 6 } }] };
  rejects(text, bytesElements(['ab']), /input 'text': binary data ends before BYTES element 1 of 2/);
});

test('the element limit applies to binary inputs before any bytes are decoded', () => {
  assert.throws(
    () => parseInferRequest({ inputs: [{ name: 'x', shape: [4, 2], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }, target, { maxInputs: 8, maxElements: 4 }, Buffer.alloc(32)),
    /has 8 elements; at most 4 are accepted per input/,
  );
});

test('outputs: the request default, and each output\'s own binary_data winning over it', () => {
  const x = { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] };
  const two: InferTarget = { ...target, inputs: [target.inputs[0]!], outputs: [...target.outputs, { name: 'z', datatype: 'FP32', shape: [-1, 3] }] };
  const r = parseInferRequest({ inputs: [x], parameters: { binary_data_output: true }, outputs: [{ name: 'y' }, { name: 'z', parameters: { binary_data: false } }] }, two, limits);
  assert.deepEqual(r.outputs, [{ name: 'y', binary: true }, { name: 'z' }]);
  const c = parseInferRequest({ inputs: [x], outputs: [{ name: 'y', parameters: { classification: 2, binary_data: true } }] }, two, limits);
  assert.deepEqual(c.outputs, [{ name: 'y', classification: 2, binary: true }]);
});

test('binary responses: binary_data_size instead of data, bytes in output order; classification as BYTES elements', () => {
  const y = { type: 'float32' as const, dims: [1, 3], data: Float32Array.from([0.1, 0.7, 0.2]) };
  const ctx = { model: 'm', version: '1', outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [-1, 3] }], labels: ['a', 'b', 'c'] };
  const plain = buildInferResponse(ctx, [{ name: 'y', binary: true }], { y });
  assert.deepEqual(plain.response.outputs, [{ name: 'y', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } }]);
  assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(plain.binary[0]!).buffer)), Array.from(y.data));
  const top = buildInferResponse(ctx, [{ name: 'y', classification: 2, binary: true }], { y });
  assert.deepEqual(top.response.outputs[0], { name: 'y', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: top.binary[0]!.byteLength } });
  assert.deepEqual(decodeBinaryTensor('BYTES', top.binary[0]!, 2), ['0.700000:1:b', '0.200000:2:c']);
});

test('encode and decode are inverse for every fixed-size datatype', () => {
  const cases = [
    ['UINT8', Uint8Array.from([0, 255])],
    ['INT16', Int16Array.from([-32768, 7])],
    ['UINT32', Uint32Array.from([4294967295, 1])],
    ['FP64', Float64Array.from([0.1, -1e300])],
    ['FP16', Uint16Array.from([0x3c00, 0xc000])],
    ['UINT64', BigUint64Array.from([18446744073709551615n, 0n])],
  ] as const;
  for (const [datatype, data] of cases) {
    assert.deepEqual(decodeBinaryTensor(datatype, encodeBinaryTensor(data), 2), data, datatype);
  }
  assert.deepEqual(Array.from(decodeBinaryTensor('BOOL', Uint8Array.from([0, 7]), 2) as Uint8Array), [0, 1]);
});

test('Inference-Header-Content-Length splits the body; a length past its end is a 400', () => {
  const body = Buffer.from('{"a":1}XYZ');
  const { json, binary } = splitBody(body, '7');
  assert.equal(json.toString(), '{"a":1}');
  assert.equal(binary!.toString(), 'XYZ');
  assert.deepEqual(splitBody(body, undefined), { json: body });
  assert.throws(() => splitBody(body, '11'), /Inference-Header-Content-Length is "11", but the body has 10 bytes/);
  assert.throws(() => splitBody(body, '-1'), InvalidInputError);
});

test('bytes the request owns are used in place when aligned; otherwise, or when not owned, they are copied', () => {
  const buffer = new ArrayBuffer(64 + 16);
  const bytes = new Uint8Array(buffer, 64, 16);
  new Float32Array(buffer, 64, 4).set([1, 2, 3, 4]);
  const inPlace = decodeBinaryTensor('FP32', bytes, 4, true) as Float32Array;
  assert.equal(inPlace.buffer, buffer, 'a view of the request buffer, not a copy');
  assert.equal(inPlace.byteOffset, 64);
  assert.deepEqual([...inPlace], [1, 2, 3, 4]);
  const copied = decodeBinaryTensor('FP32', bytes, 4) as Float32Array;
  assert.notEqual(copied.buffer, buffer, 'not owned: copied, as every REST body is');
  assert.deepEqual([...copied], [1, 2, 3, 4]);
  const odd = new Uint8Array(buffer, 2, 16);
  const misaligned = decodeBinaryTensor('FP32', odd, 4, true) as Float32Array;
  assert.notEqual(misaligned.buffer, buffer, 'misaligned for FP32: copied');
  assert.equal(misaligned.byteOffset, 0);
  // BOOL is normalized in place when owned (any non-zero byte is true).
  const flags = new Uint8Array(new ArrayBuffer(8), 0, 3);
  flags.set([0, 7, 1]);
  assert.deepEqual([...(decodeBinaryTensor('BOOL', flags, 3, true) as Uint8Array)], [0, 1, 1]);
});
