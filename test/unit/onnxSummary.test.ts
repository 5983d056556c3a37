// The ONNX summary read by the agent's own wire reader agrees with onnx-proto's generated decoder
// on the real demo models, counts subgraph operators, and refuses what is not an ONNX model.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { OnnxFormatError, summarizeOnnx } from '../../agent/src/onnx/onnxSummary.js';
import { fields, readVarint, varints } from '../../agent/src/onnx/protobufWire.js';
import { BUNDLED_MODELS } from '../helpers/agentProcess.js';

for (const version of ['1', '2']) {
  test(`digits v${version}: the summary matches onnx-proto's decoding of the same file`, () => {
    const bytes = readFileSync(join(BUNDLED_MODELS, 'digits', version, 'model.onnx'));
    const summary = summarizeOnnx(bytes);
    const decoded = onnx.ModelProto.decode(bytes);
    const graph = decoded.graph!;
    const nodes = graph.node ?? [];
    const inits = graph.initializer ?? [];
    assert.equal(summary.ir_version, Number(decoded.irVersion));
    assert.equal(summary.producer_name, decoded.producerName);
    assert.equal(summary.producer_version, decoded.producerVersion);
    assert.equal(summary.graph_name, graph.name);
    assert.deepEqual(summary.opsets, decoded.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })));
    const ops = new Map<string, number>();
    for (const n of nodes) ops.set(n.opType!, (ops.get(n.opType!) ?? 0) + 1);
    assert.deepEqual(summary.operators, Object.fromEntries([...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))));
    assert.equal(summary.node_count, nodes.length);
    const params = inits.reduce((n, t) => n + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1), 0);
    assert.equal(summary.parameters, params);
    assert.equal(summary.initializers, inits.length);
    assert.equal(summary.external_initializers, 0);
  });
}

test('digits v1 is the 784→10 logistic regression: 7,850 parameters, opset 17, MatMul/Add/Softmax', () => {
  const s = summarizeOnnx(readFileSync(join(BUNDLED_MODELS, 'digits', '1', 'model.onnx')));
  assert.equal(s.parameters, 784 * 10 + 10);
  assert.deepEqual(s.opsets, [{ domain: 'ai.onnx', version: 17 }]);
  assert.deepEqual(s.operators, { Add: 1, MatMul: 1, Softmax: 1 });
  assert.equal(s.producer_name, 'inferscope-train');
});

test('operators inside If branches are counted; custom domains keep their prefix; sparse and external initializers count', () => {
  const branch = (op: string): onnx.IGraphProto => ({ name: op, node: [{ opType: op, input: ['x'], output: ['y'] }], output: [{ name: 'y' }] });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 9,
      producerName: 'pytorch',
      producerVersion: '2.5.0',
      opsetImport: [{ domain: '', version: 18 }, { domain: 'com.microsoft', version: 1 }],
      graph: {
        name: 'g',
        node: [
          { opType: 'If', input: ['c'], output: ['y'], attribute: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('Relu') },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('Sigmoid') },
          ] },
          { opType: 'FusedGemm', domain: 'com.microsoft', input: ['y'], output: ['z'] },
          { opType: 'Relu', input: ['z'], output: ['w'] },
        ],
        initializer: [
          { name: 'w', dims: [3, 4, 5], dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'w.bin' }] },
          { name: 'b', dims: [2], dataType: 1, floatData: [1, 2] },
        ],
        sparseInitializer: [{ values: { name: 'sv', dims: [7], dataType: 1, floatData: [1, 2, 3, 4, 5, 6, 7] }, indices: { dims: [7], dataType: 7 }, dims: [100] }],
      },
    }),
  ).finish();
  const s = summarizeOnnx(bytes);
  assert.deepEqual(s.operators, { Relu: 2, 'com.microsoft.FusedGemm': 1, If: 1, Sigmoid: 1 });
  assert.equal(s.node_count, 5);
  assert.equal(s.parameters, 60 + 2 + 7);
  assert.equal(s.initializers, 3);
  assert.equal(s.external_initializers, 1);
  assert.deepEqual(s.opsets, [{ domain: 'ai.onnx', version: 18 }, { domain: 'com.microsoft', version: 1 }]);
});

test('what is not an ONNX model is refused with a clear error, never a crash or a hang', () => {
  const real = readFileSync(join(BUNDLED_MODELS, 'digits', '1', 'model.onnx'));
  assert.throws(() => summarizeOnnx(real.subarray(0, real.length - 100)), OnnxFormatError);
  assert.throws(() => summarizeOnnx(Buffer.from('{"not":"onnx"}')), OnnxFormatError);
  assert.throws(() => summarizeOnnx(new Uint8Array(0)), /no graph/);
  assert.throws(() => summarizeOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), OnnxFormatError);
});

test('wire reader: varints past 32 bits, packed and unpacked repeated fields', () => {
  assert.deepEqual(readVarint(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x10]), 0), [2 ** 32, 5]);
  // field 1, packed: [3, 300]
  const packed = [...fields(new Uint8Array([0x0a, 0x03, 0x03, 0xac, 0x02]))];
  assert.deepEqual(varints(packed[0]!), [3, 300]);
  const unpacked = [...fields(new Uint8Array([0x08, 0x03, 0x08, 0xac, 0x02]))];
  assert.deepEqual(unpacked.flatMap(varints), [3, 300]);
});
