// ModelInferRequest messages as the agent's gRPC door reads them (agent/src/grpc/inferMessages.ts):
// where the raw tensor starts in the encoded message (the transport aligns it there), and when the
// request's bytes may be used in place.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { rawContentsOffset, toInferPayload, type ModelInferRequest } from '../../agent/src/grpc/inferMessages.js';

const root = new protobuf.Root().loadSync(join(__dirname, '..', '..', 'agent', 'proto', 'inference.proto'), { keepCase: true });
const Request = root.lookupType('inference.ModelInferRequest');
const encode = (message: object) => Buffer.from(Request.encode(Request.fromObject(message)).finish());

test('rawContentsOffset finds the first raw tensor after every other field, or says it does not know', () => {
  const tensor = Buffer.from(Float32Array.from([1.5, 2.5, 3.5]).buffer);
  const messages = [
    { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [tensor] },
    {
      model_name: 'digits',
      model_version: '2',
      id: 'req-1',
      parameters: { priority: { int64_param: 3 }, flag: { bool_param: true }, ratio: { double_param: 0.5 } },
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3], parameters: { p: { string_param: 'x'.repeat(300) } } }],
      outputs: [{ name: 'probs' }],
      raw_input_contents: [tensor, Buffer.from('second')],
    },
  ];
  for (const message of messages) {
    const bytes = encode(message);
    const at = rawContentsOffset(bytes);
    assert.ok(at !== undefined);
    assert.deepEqual(bytes.subarray(at, at + tensor.length), tensor);
    // Cut before the tensor's bytes begin: unknown, never a wrong guess.
    assert.equal(rawContentsOffset(bytes.subarray(0, at - 1)), undefined);
    assert.equal(rawContentsOffset(bytes.subarray(0, at)), at, 'its length prefix in: the start is known');
  }
  assert.equal(rawContentsOffset(encode({ model_name: 'digits', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] })), undefined);
  assert.equal(rawContentsOffset(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), undefined);
  assert.equal(rawContentsOffset(Buffer.from([0x0f])), undefined, 'wire type 7 does not exist');
});

test('one raw input of a message the call owns is passed as owned; several, or typed contents, are not', () => {
  const request = (raw: Buffer[], inputs: number): ModelInferRequest => ({
    model_name: 'm',
    model_version: '',
    id: '',
    parameters: {},
    inputs: Array.from({ length: inputs }, (_, i) => ({ name: `in${i}`, datatype: 'UINT8', shape: ['2'], parameters: {}, ...(raw.length ? {} : { contents: { uint_contents: [1, 2] } }) })),
    outputs: [],
    raw_input_contents: raw,
  });
  const one = toInferPayload(request([Buffer.from([1, 2])], 1), true);
  assert.equal(one.payload.ownsBinary, true);
  assert.equal(toInferPayload(request([Buffer.from([1, 2])], 1)).payload.ownsBinary, undefined, 'not owned by the call');
  assert.equal(toInferPayload(request([Buffer.from([1, 2]), Buffer.from([3, 4])], 2), true).payload.ownsBinary, undefined, 'joined: a copy');
  assert.equal(toInferPayload(request([], 1), true).payload.ownsBinary, undefined, 'typed contents are packed into new bytes');
});
