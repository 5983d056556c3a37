// Issue 18: the Open Inference Protocol over gRPC against the real agent, with a client built only
// from the .proto files: every KServe RPC, raw and typed contents for every datatype, BYTES,
// classification, 64 rows, errors as status codes, the token, deadlines, cancellation, REST and
// gRPC requests in one batch, and a canary whose traffic comes over gRPC.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status as Status } from '@grpc/grpc-js';
import type { AgentStatus, Canary, InferResponse } from '../../common/api.js';
import { toFloat16Bits } from '../../agent/src/inference/tensorTypes.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { writeEchoModel, type ONNX_TYPES } from '../fixtures/shapeModels.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { InferenceClient } from '../helpers/grpcClient.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import { digitsRepo } from '../helpers/tempRepo.js';

const TOKEN = 'grpc-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let repo: string;
let agent: AgentProcess;
let grpc: InferenceClient;

type Datatype = keyof typeof ONNX_TYPES;
const DATATYPES: Datatype[] = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

before(async () => {
  repo = digitsRepo(() => {}, { twinOf1: '3' });
  for (const t of DATATYPES) writeEchoModel(join(repo, `echo_${t.toLowerCase()}`), t);
  const config = join(repo, 'agent.json');
  writeFileSync(config, JSON.stringify({ body_limit_bytes: 1_000_000 }));
  agent = await startAgent({ args: ['--models', repo, '--config', config, '--enable-faults', '--state-dir', mkdtempSync(join(tmpdir(), 'inferscope-grpc-state-'))], env: { INFERSCOPE_TOKEN: TOKEN }, timeoutMs: 60_000 });
  grpc = new InferenceClient(agent.grpcPort!, TOKEN);
});
after(async () => {
  grpc.close();
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

const HELD_OUT = loadMnist().heldOut.slice(0, 500);
const pixels = (label: number) => exampleRequest(label).inputs[0]!.data as number[];
const rawFloats = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);
const floatsOf = (b: Buffer) => Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
const digitRequest = (labels: number[], extra: object = {}) => ({
  model_name: 'digits',
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [labels.length, 784] }],
  raw_input_contents: [rawFloats(labels.flatMap(pixels))],
  ...extra,
});

test('health, server and model metadata: the same answers as REST; health needs no token', async () => {
  const anonymous = new InferenceClient(agent.grpcPort!);
  try {
    assert.deepEqual(await anonymous.call('ServerLive', {}), { live: true });
    assert.deepEqual(await anonymous.call('ServerReady', {}), { ready: true });
    assert.deepEqual(await anonymous.call('ModelReady', { name: 'digits', version: '2' }), { ready: true });
    assert.equal((await anonymous.failure('ModelReady', { name: 'nope' })).code, Status.NOT_FOUND);
    const denied = await anonymous.failure('ServerMetadata', {});
    assert.equal(denied.code, Status.UNAUTHENTICATED);
    assert.match(denied.details, /missing bearer token/);
    assert.equal((await anonymous.failure('ModelInfer', digitRequest([7]), { token: 'wrong-token-but-long-enough' })).code, Status.UNAUTHENTICATED);
  } finally {
    anonymous.close();
  }
  const rest = (await request(`${agent.url}/v2`, { headers: auth })).body;
  const meta = await grpc.call('ServerMetadata', {});
  assert.deepEqual({ name: meta.name, version: meta.version, extensions: meta.extensions }, rest);
  const restModel = (await request(`${agent.url}/v2/models/digits`, { headers: auth })).body;
  const model = await grpc.call('ModelMetadata', { name: 'digits' });
  const numbers = (ts: { name: string; datatype: string; shape: string[] }[]) => ts.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape.map(Number) }));
  assert.deepEqual({ name: model.name, versions: model.versions, platform: model.platform, inputs: numbers(model.inputs), outputs: numbers(model.outputs) }, restModel);
});

test('ModelInfer with raw contents answers in raw_output_contents, the same numbers as REST', async () => {
  const answer = await grpc.call('ModelInfer', digitRequest([7], { id: 'g-7', model_version: '1' }));
  assert.equal(answer.model_name, 'digits');
  assert.equal(answer.model_version, '1');
  assert.equal(answer.id, 'g-7');
  assert.deepEqual(answer.outputs.map((o: any) => [o.name, o.datatype, o.shape.map(Number)]), [['probs', 'FP32', [1, 10]]]);
  assert.equal(answer.raw_output_contents.length, 1);
  const probs = floatsOf(answer.raw_output_contents[0]);
  assert.equal(argmax(probs), 7);
  const rest = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/1/infer`, { body: exampleRequest(7), headers: auth });
  assert.deepEqual(probs.map((p) => p.toFixed(6)), (rest.body.outputs[0]!.data as number[]).map((p) => Math.fround(p).toFixed(6)));
});

test('ModelInfer with typed contents answers in typed contents; classification comes back as BYTES', async () => {
  const answer = await grpc.call('ModelInfer', {
    model_name: 'digits',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: pixels(3) } }],
  });
  assert.equal(answer.raw_output_contents.length, 0);
  assert.equal(argmax(answer.outputs[0].contents.fp32_contents), 3);
  const top = await grpc.call('ModelInfer', {
    model_name: 'digits',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: pixels(4) } }],
    outputs: [{ name: 'probs', parameters: { classification: { int64_param: 3 } } }],
  });
  const out = top.outputs[0];
  assert.equal(out.datatype, 'BYTES');
  assert.deepEqual(out.shape.map(Number), [1, 3]);
  const classes = out.contents.bytes_contents.map((b: Buffer) => b.toString());
  assert.equal(classes.length, 3);
  assert.match(classes[0], /^0\.\d{6}:4:4$/);
});

test('64 rows in one call: every row gets its own answer', async () => {
  const labels = Array.from({ length: 64 }, (_, i) => i % 10);
  const answer = await grpc.call('ModelInfer', digitRequest(labels));
  assert.deepEqual(answer.outputs[0].shape.map(Number), [64, 10]);
  const probs = floatsOf(answer.raw_output_contents[0]);
  assert.deepEqual(labels.map((_, row) => argmax(probs, row * 10, 10)), labels);
});

/** Two rows of each datatype, at the edges of its range. */
const SAMPLES: Record<Datatype, { typed?: object; raw: Buffer; back: (answer: any) => unknown; expected: unknown }> = (() => {
  const buf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const fromRaw = <T>(make: (b: ArrayBuffer) => ArrayLike<T>) => (a: any) => {
    const b: Buffer = a.raw_output_contents[0];
    return Array.from(make(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  };
  const int = (field: string, values: number[], Arr: any) => ({ typed: { [field]: values }, raw: buf(Arr.from(values)), back: fromRaw((b) => new Arr(b)), expected: values });
  const strings = ['', 'a', 'déjà vu', 'x'.repeat(300)];
  const bytesRaw = Buffer.concat(strings.flatMap((s) => { const b = Buffer.from(s); const n = Buffer.alloc(4); n.writeUInt32LE(b.length); return [n, b]; }));
  const half = [1, -2, 0.5, 65504];
  return {
    BOOL: { typed: { bool_contents: [true, false, false, true] }, raw: Buffer.from([1, 0, 0, 1]), back: (a) => Array.from(a.raw_output_contents[0] as Buffer, (v) => v === 1), expected: [true, false, false, true] },
    UINT8: int('uint_contents', [0, 1, 254, 255], Uint8Array),
    UINT16: int('uint_contents', [0, 1, 65534, 65535], Uint16Array),
    UINT32: int('uint_contents', [0, 1, 4294967294, 4294967295], Uint32Array),
    INT8: int('int_contents', [-128, -1, 0, 127], Int8Array),
    INT16: int('int_contents', [-32768, -1, 0, 32767], Int16Array),
    INT32: int('int_contents', [-2147483648, -1, 0, 2147483647], Int32Array),
    UINT64: { typed: { uint64_contents: ['0', '1', '9007199254740993', '18446744073709551615'] }, raw: buf(BigUint64Array.from([0n, 1n, 9007199254740993n, 18446744073709551615n])), back: fromRaw((b) => Array.from(new BigUint64Array(b), String)), expected: ['0', '1', '9007199254740993', '18446744073709551615'] },
    INT64: { typed: { int64_contents: ['-9223372036854775808', '-1', '9007199254740993', '9223372036854775807'] }, raw: buf(BigInt64Array.from([-9223372036854775808n, -1n, 9007199254740993n, 9223372036854775807n])), back: fromRaw((b) => Array.from(new BigInt64Array(b), String)), expected: ['-9223372036854775808', '-1', '9007199254740993', '9223372036854775807'] },
    FP16: { raw: buf(Uint16Array.from(half.map(toFloat16Bits))), back: fromRaw((b) => new Uint16Array(b)), expected: half.map(toFloat16Bits) },
    FP32: int('fp32_contents', [1.5, -2.25, 0, 3.4028234663852886e38], Float32Array),
    FP64: int('fp64_contents', [1.5, -2.25, Number.MIN_VALUE, Number.MAX_VALUE], Float64Array),
    BYTES: { typed: { bytes_contents: strings.map((s) => Buffer.from(s)) }, raw: bytesRaw, back: (a) => a.raw_output_contents[0], expected: bytesRaw },
  };
})();

test('every datatype, raw and typed, comes back bit for bit through an Identity model', async () => {
  for (const t of DATATYPES) {
    const sample = SAMPLES[t];
    const input = { name: 'x', datatype: t, shape: [2, 2] };
    const raw = await grpc.call('ModelInfer', { model_name: `echo_${t.toLowerCase()}`, inputs: [input], raw_input_contents: [sample.raw] });
    assert.equal(raw.outputs[0].datatype, t);
    assert.deepEqual(sample.back(raw), sample.expected, `${t} raw`);
    if (!sample.typed) {
      const refused = await grpc.failure('ModelInfer', { model_name: `echo_${t.toLowerCase()}`, inputs: [{ ...input, contents: { fp32_contents: [1, 2, 3, 4] } }] });
      assert.equal(refused.code, Status.INVALID_ARGUMENT);
      assert.match(refused.details, /FP16 has no typed contents field; send it in raw_input_contents/);
      continue;
    }
    const typed = await grpc.call('ModelInfer', { model_name: `echo_${t.toLowerCase()}`, inputs: [{ ...input, contents: sample.typed }] });
    assert.equal(typed.raw_output_contents.length, 0, `${t}: typed in, typed out`);
    const field = Object.keys(sample.typed)[0]!;
    const back = typed.outputs[0].contents[field];
    assert.deepEqual(t === 'BYTES' ? back.map(String) : back, t === 'BYTES' ? (sample.typed as any).bytes_contents.map(String) : (sample.typed as any)[field], `${t} typed`);
  }
});

test('errors are status codes with the REST message: unknown model, shapes, sizes, mixed contents, ranges, message size', async () => {
  const unknown = await grpc.failure('ModelInfer', { ...digitRequest([1]), model_name: 'nope' });
  assert.equal(unknown.code, Status.NOT_FOUND);
  assert.match(unknown.details, /unknown model "nope"/);
  const version = await grpc.failure('ModelInfer', digitRequest([1], { model_version: '9' }));
  assert.equal(version.code, Status.NOT_FOUND);
  const shape = await grpc.failure('ModelInfer', { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 783] }], raw_input_contents: [rawFloats(new Array(783).fill(0))] });
  assert.equal(shape.code, Status.INVALID_ARGUMENT);
  assert.match(shape.details, /pixels/);
  const size = await grpc.failure('ModelInfer', { ...digitRequest([1]), raw_input_contents: [Buffer.alloc(10)] });
  assert.equal(size.code, Status.INVALID_ARGUMENT);
  assert.match(size.details, /10 bytes, but its shape needs 784 × FP32 = 3136 bytes/);
  const count = await grpc.failure('ModelInfer', { ...digitRequest([1]), raw_input_contents: [rawFloats(pixels(1)), rawFloats(pixels(1))] });
  assert.equal(count.code, Status.INVALID_ARGUMENT);
  assert.match(count.details, /raw_input_contents has 2 entries, but the request has 1 inputs/);
  const both = await grpc.failure('ModelInfer', { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784], contents: { fp32_contents: pixels(1) } }], raw_input_contents: [rawFloats(pixels(1))] });
  assert.equal(both.code, Status.INVALID_ARGUMENT);
  assert.match(both.details, /raw_input_contents or in contents, not both/);
  const range = await grpc.failure('ModelInfer', { model_name: 'echo_int8', inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 1], contents: { int_contents: [300] } }] });
  assert.equal(range.code, Status.INVALID_ARGUMENT);
  assert.match(range.details, /300 is out of range for INT8/);
  const none = await grpc.failure('ModelInfer', { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }] });
  assert.equal(none.code, Status.INVALID_ARGUMENT);
  assert.match(none.details, /has no contents/);
  // body_limit_bytes is 1,000,000 here: 400 rows (1.25 MB) are over it.
  const big = await grpc.failure('ModelInfer', digitRequest(Array.from({ length: 400 }, () => 1)));
  assert.equal(big.code, Status.RESOURCE_EXHAUSTED);
  assert.deepEqual(await grpc.call('ServerLive', {}), { live: true }, 'the agent keeps serving');
  const metrics = (await request<string>(`${agent.url}/metrics`, { headers: auth })).body;
  assert.match(metrics, /inferscope_grpc_calls_total\{rpc="ModelInfer",code="NOT_FOUND"\} 2\n/);
  assert.match(metrics, /inferscope_grpc_calls_total\{rpc="ModelInfer",code="OK"\} [1-9]/);
});

const fault = (version: string, body: object | null) =>
  request(`${agent.url}/api/v1/faults/digits/${version}`, body ? { method: 'PUT', body, headers: auth } : { method: 'DELETE', headers: auth });

test('the call deadline is the request deadline; a cancelled call is taken out of the queue', async () => {
  assert.equal((await fault('1', { latency_ms: 400 })).status, 200);
  try {
    // One call holds the instance for 400 ms; a second, with 100 ms to live, waits in the queue.
    const holder = grpc.call('ModelInfer', digitRequest([1], { model_version: '1' }));
    await new Promise((r) => setTimeout(r, 50));
    const late = await grpc.failure('ModelInfer', digitRequest([2], { model_version: '1' }), { deadlineMs: 100 });
    assert.equal(late.code, Status.DEADLINE_EXCEEDED, late.details);
    await holder;
    const before = await outcomes('cancelled');
    const holder2 = grpc.call('ModelInfer', digitRequest([1], { model_version: '1' }));
    await new Promise((r) => setTimeout(r, 50));
    let cancel = () => {};
    const cancelled = grpc.failure('ModelInfer', digitRequest([2], { model_version: '1' }), { onCall: (c) => (cancel = () => c.cancel()) });
    await new Promise((r) => setTimeout(r, 50));
    cancel();
    assert.equal((await cancelled).code, Status.CANCELLED);
    await holder2;
    await waitFor(async () => (await outcomes('cancelled')) === before + 1, 3000);
  } finally {
    await fault('1', null);
  }
});

async function outcomes(outcome: string): Promise<number> {
  const text = (await request<string>(`${agent.url}/metrics`, { headers: auth })).body;
  return Number(new RegExp(`inferscope_inference_requests_total\\{model="digits",version="1",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

test('REST and gRPC requests share batches', async () => {
  assert.equal((await fault('1', { latency_ms: 300 })).status, 200);
  try {
    const holder = grpc.call('ModelInfer', digitRequest([0], { model_version: '1' }));
    await new Promise((r) => setTimeout(r, 50));
    // While the instance is busy, 8 gRPC and 8 REST requests queue; they leave as one batch.
    const viaGrpc = Array.from({ length: 8 }, (_, i) => grpc.call('ModelInfer', digitRequest([i], { model_version: '1' })));
    const viaRest = Array.from({ length: 8 }, (_, i) => request<InferResponse>(`${agent.url}/v2/models/digits/versions/1/infer`, { body: exampleRequest(i), headers: auth }));
    const [g, r] = await Promise.all([Promise.all(viaGrpc), Promise.all(viaRest)]);
    await holder;
    g.forEach((a, i) => assert.equal(argmax(floatsOf(a.raw_output_contents[0])), i));
    r.forEach((a, i) => assert.equal(argmax(a.body.outputs[0]!.data as number[]), i));
    const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`, { headers: auth })).body;
    const sizes = status.models.find((m) => m.name === 'digits')!.versions.find((v) => v.version === '1')!.batching.recent_batch_sizes;
    // Apart, they would make batches of at most 8.
    assert.ok(Math.max(...sizes.slice(-3)) >= 16, `one batch of 8 gRPC + 8 REST requests (recent batch sizes: ${sizes.join(', ')})`);
  } finally {
    await fault('1', null);
  }
});

test('a canary judges traffic that comes over gRPC', async () => {
  const started = await request<Canary>(`${agent.url}/api/v1/canaries`, {
    headers: auth,
    // Latency is judged and reported but does not decide: at 0.4 s checks on one sequential client a
    // sub-millisecond model's two versions can rank apart by scheduling alone (CI once rolled the twin
    // back at P(slower) 0.70, p99 3.3 vs 5.9 ms); this test is about gRPC traffic being split and counted.
    body: { model: 'digits', candidate: '3', interval_s: 0.4, checks_per_step: 2, steps: [50, 100], thresholds: { min_samples: 30, critical: ['error_rate', 'predictions', 'confidence', 'breaker'] } },
  });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const versions = new Set<string>();
  let running = true;
  const load = (async () => {
    for (let i = 0; running; i++) {
      // Many distinct digits (see canary.test.ts): 10 would let the split alone decide confidence.
      const d = HELD_OUT[(i * 7) % HELD_OUT.length]!;
      const a = await grpc.call('ModelInfer', { model_name: 'digits', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [Buffer.from(d.pixels.buffer.slice(0))] });
      versions.add(a.model_version);
    }
  })();
  await waitFor(async () => (await request<Canary>(`${agent.url}/api/v1/canaries/${started.body.id}`, { headers: auth })).body.state !== 'running', 30_000);
  running = false;
  await load;
  const c = (await request<Canary>(`${agent.url}/api/v1/canaries/${started.body.id}`, { headers: auth })).body;
  assert.equal(c.state, 'promoted', c.reason ?? '');
  assert.ok(c.checks.every((k) => k.samples.candidate > 0 && k.samples.baseline + k.samples.candidate > 0));
  assert.ok(c.checks.every((k) => k.metrics.some((m) => m.name === 'latency' && m.verdict !== 'inconclusive')), 'latency judged at every check');
  assert.deepEqual([...versions].sort(), ['1', '3'], 'the split applied to gRPC calls');
});

test('SIGTERM drains gRPC calls in flight: they finish; a new call is UNAVAILABLE; the agent exits 0 (last: it stops the agent)', async () => {
  assert.equal((await fault('1', { latency_ms: 500 })).status, 200);
  const inFlight = grpc.call('ModelInfer', digitRequest([5], { model_version: '1' }));
  await new Promise((r) => setTimeout(r, 150));
  const exit = agent.stop('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await grpc.failure('ModelInfer', digitRequest([5], { model_version: '1' }));
  assert.ok(refused.code === Status.UNAVAILABLE, `${refused.code} ${refused.details}`);
  const answer = await inFlight;
  assert.equal(argmax(floatsOf(answer.raw_output_contents[0])), 5);
  assert.equal(await exit, 0);
});
