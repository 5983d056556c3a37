// Issue 18: hostile input over gRPC. Bytes that are not protobuf, messages that are protobuf but
// nonsense, sizes that disagree with shapes: each call ends with a status code, and the agent keeps
// serving. 1,000 generated messages of each kind (fast-check, fixed seed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { InferenceClient } from '../helpers/grpcClient.js';
import { argmax, exampleRequest } from '../helpers/http.js';

let agent: AgentProcess;
let grpc: InferenceClient;
before(async () => {
  agent = await startAgent();
  grpc = new InferenceClient(agent.grpcPort!);
});
after(async () => {
  grpc.close();
  await agent.stop();
});

const KNOWN_CODES = new Set(Object.values(Status).filter((v) => typeof v === 'number'));

/** Sends `bytes` as the ModelInfer message itself, bypassing the encoder. */
function sendBytes(bytes: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    grpc.raw.makeUnaryRequest(
      '/inference.GRPCInferenceService/ModelInfer',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new Metadata(),
      {},
      (err: ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: Status.OK, details: '' }),
    );
  });
}

async function stillServes(): Promise<void> {
  const pixels = exampleRequest(6).inputs[0]!.data as number[];
  const answer = await grpc.call('ModelInfer', { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [Buffer.from(Float32Array.from(pixels).buffer)] });
  const b: Buffer = answer.raw_output_contents[0];
  assert.equal(argmax(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)), 6);
}

test('bytes that are not protobuf are INVALID_ARGUMENT, saying so', async () => {
  // Field 5 (inputs) claiming 1,000 bytes with 3 present; a lone tag byte (field 7, wire type 7)
  // and nothing after it. (Some damage protobuf's decoder reads leniently: those are answered as
  // the message it decoded, by the checks below.)
  for (const bytes of [Buffer.from([0x2a, 0xe8, 0x07, 1, 2, 3]), Buffer.from([0x3f])]) {
    const answer = await sendBytes(bytes);
    assert.equal(answer.code, Status.INVALID_ARGUMENT, answer.details);
    assert.match(answer.details, /the ModelInfer message is not valid protobuf/);
  }
  await stillServes();
});

test('1,000 random byte strings: every call ends with a status code; the agent keeps serving', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
      const { code } = await sendBytes(Buffer.from(bytes));
      assert.ok(KNOWN_CODES.has(code));
      assert.notEqual(code, Status.INTERNAL, 'nothing a client sends is the agent\'s internal error');
    }),
    { numRuns: 1000, seed: 18 },
  );
  await stillServes();
});

const datatypes = ['BOOL', 'UINT8', 'INT8', 'INT32', 'INT64', 'UINT64', 'FP16', 'FP32', 'FP64', 'BYTES', 'NOPE', ''];

test('1,000 random well-formed messages (names, datatypes, shapes, contents, raw bytes): each answered with a status; the agent keeps serving', async () => {
  const tensor = fc.record({
    name: fc.oneof(fc.constant('pixels'), fc.string({ maxLength: 8 })),
    datatype: fc.constantFrom(...datatypes),
    shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(784, 2 ** 31, 2 ** 53 - 1)), { maxLength: 4 }),
    contents: fc.option(fc.record({ fp32_contents: fc.array(fc.float({ noNaN: true }), { maxLength: 16 }), int64_contents: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), { maxLength: 4 }) }), { nil: undefined }),
  });
  const message = fc.record({
    model_name: fc.constantFrom('digits', 'nope', '', '../digits'),
    model_version: fc.constantFrom('', '1', '2', '99', 'x'),
    inputs: fc.array(tensor, { maxLength: 3 }),
    raw_input_contents: fc.array(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), { maxLength: 3 }),
    parameters: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.record({ bool_param: fc.boolean() }), fc.record({ string_param: fc.string({ maxLength: 8 }) }), fc.record({ int64_param: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) })), { maxKeys: 3 }),
  });
  const codes = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(message, async (m) => {
      let code: number = Status.OK;
      try {
        await grpc.call('ModelInfer', m);
      } catch (err) {
        code = (err as ServiceError).code;
      }
      assert.ok(KNOWN_CODES.has(code));
      assert.notEqual(code, Status.INTERNAL, `an internal error for ${JSON.stringify(m).slice(0, 300)}`);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }),
    { numRuns: 1000, seed: 1818 },
  );
  assert.ok((codes.get(Status.INVALID_ARGUMENT) ?? 0) > 0 && (codes.get(Status.NOT_FOUND) ?? 0) > 0, JSON.stringify(Object.fromEntries(codes)));
  await stillServes();
});
