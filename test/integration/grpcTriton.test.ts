// Issue 18: Triton's extension RPCs over gRPC (ModelConfig, ModelStatistics, RepositoryIndex,
// RepositoryModelLoad, RepositoryModelUnload) against the real agent: the same data as the REST
// forms, field by field, also when the bytes are decoded with Triton's own field numbers; load and
// unload with REST's rules (the `config` parameter, `file:` refused, a running canary); errors as
// status codes; the token.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, credentials, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import type { RepositoryIndexEntry } from '../../common/api.js';
import { inferenceServiceDefinition } from '../../agent/src/grpc/protoFiles.js';
import { ROOT, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { InferenceClient } from '../helpers/grpcClient.js';
import { exampleRequest, request } from '../helpers/http.js';
import { digitsRepo, digitsVersions } from '../helpers/tempRepo.js';
import { assertSameAsJson, decodeWithTriton } from '../helpers/tritonSchema.js';

const TOKEN = 'grpc-triton-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const RPCS = ['ModelConfig', 'ModelStatistics', 'RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload'];
let repo: string;
let agent: AgentProcess;
let grpc: InferenceClient;

before(async () => {
  repo = digitsRepo();
  // `spare`: a second model to unload and load without touching digits.
  cpSync(join(repo, 'digits'), join(repo, 'spare'), { recursive: true });
  writeFileSync(join(repo, 'spare', 'config.json'), readFileSync(join(repo, 'digits', 'config.json'), 'utf8').replace('"name":"digits"', '"name":"spare"'));
  const stateDir = mkdtempSync(join(tmpdir(), 'inferscope-grpc-triton-state-'));
  agent = await startAgent({ args: ['--models', repo, '--state-dir', stateDir], env: { INFERSCOPE_TOKEN: TOKEN }, timeoutMs: 60_000 });
  grpc = new InferenceClient(agent.grpcPort!, TOKEN);
});
after(async () => {
  grpc?.close();
  await agent?.stop();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

const rest = (path: string, init: { method?: string; body?: unknown } = {}) => request(`${agent.url}${path}`, { ...init, headers: auth });
const restOk = async (path: string, init: { method?: string; body?: unknown } = {}) => {
  const r = await rest(path, init);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
};

/** An RPC's answer as bytes, undecoded: for decoding with Triton's field numbers. */
function rawCall(rpc: string, req: object): Promise<Buffer> {
  const method = inferenceServiceDefinition(join(ROOT, 'agent', 'proto'))[rpc]!;
  const client = new Client(`127.0.0.1:${agent.grpcPort}`, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', auth.authorization);
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, (b: Buffer) => b, req, metadata, (err: ServiceError | null, bytes?: Buffer) => {
      client.close();
      if (err) reject(err);
      else resolve(bytes!);
    });
  });
}

// What triton_extensions.proto leaves out of ModelConfig; empty in every REST answer.
const LEFT_OUT = ['config.batch_input', 'config.batch_output', 'config.instance_group[0].secondary_devices', 'config.model_warmup', 'config.runtime'];

test('ModelConfig of digits: the REST config, field by field; the bytes decode to it with Triton\'s field numbers', async () => {
  const json = await restOk('/v2/models/digits/config');
  const answer = await grpc.call('ModelConfig', { name: 'digits' });
  assert.deepEqual(assertSameAsJson(answer.config, json, 'config').sort(), LEFT_OUT);
  // The fields clients read, spelled out.
  const c = answer.config;
  assert.equal(c.name, 'digits');
  assert.equal(c.platform, 'onnxruntime_onnx');
  assert.equal(c.backend, 'onnxruntime');
  assert.equal(c.max_batch_size, 64);
  assert.deepEqual(c.version_policy, { all: {}, policy_choice: 'all' });
  assert.deepEqual(c.input.map((t: any) => [t.name, t.data_type, t.format, t.dims.map(Number)]), [['pixels', 'TYPE_FP32', 'FORMAT_NONE', [784]]]);
  assert.deepEqual(c.output.map((t: any) => [t.name, t.data_type, t.dims.map(Number)]), [['probs', 'TYPE_FP32', [10]]]);
  assert.deepEqual(json.input.map((t: any) => t.dims), [[784]]);
  assert.deepEqual(c.instance_group.map((g: any) => [g.name, g.kind, g.count]), [['digits', json.instance_group[0].kind, 1]]);
  assert.equal(c.scheduling_choice, 'dynamic_batching');
  assert.equal(c.dynamic_batching.default_queue_policy.max_queue_size, 1024);
  assert.equal(c.dynamic_batching.max_queue_delay_microseconds, '0');
  assert.equal(c.parameters.default_version.string_value, '1');

  const versioned = await grpc.call('ModelConfig', { name: 'digits', version: '2' });
  assertSameAsJson(versioned.config, await restOk('/v2/models/digits/versions/2/config'), 'config');

  const decoded = decodeWithTriton('ModelConfigResponse', await rawCall('ModelConfig', { name: 'digits' }));
  assert.deepEqual(assertSameAsJson(decoded.config, json, 'config').sort(), LEFT_OUT);
});

test('ModelStatistics after inferences over REST and gRPC: the REST numbers (counts, ns) for a version, a model and all models', async () => {
  const before = (await restOk('/v2/models/digits/versions/1/stats')).model_stats[0];
  for (let i = 0; i < 3; i++) assert.equal((await rest('/v2/models/digits/versions/1/infer', { body: exampleRequest(i) })).status, 200);
  const pixels = Buffer.from(Float32Array.from(exampleRequest(7).inputs[0]!.data as number[]).buffer);
  for (let i = 0; i < 2; i++) await grpc.call('ModelInfer', { model_name: 'digits', model_version: '1', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [pixels] });
  // A failed request counts too.
  assert.equal((await rest('/v2/models/digits/versions/1/infer', { body: { inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] } })).status, 400);

  const json = await restOk('/v2/models/digits/versions/1/stats');
  const answer = await grpc.call('ModelStatistics', { name: 'digits', version: '1' });
  assert.deepEqual(assertSameAsJson(answer, json), []);
  const s = answer.model_stats[0];
  assert.equal(Number(s.inference_stats.success.count) - before.inference_stats.success.count, 5);
  assert.equal(Number(s.inference_count) - before.inference_count, 5);
  assert.ok(Number(s.inference_stats.success.ns) > before.inference_stats.success.ns);
  assert.ok(Number(s.execution_count) >= before.execution_count + 1);
  assert.ok(s.batch_stats.length >= 1 && s.batch_stats.every((b: any) => Number(b.compute_infer.count) > 0));

  assertSameAsJson(await grpc.call('ModelStatistics', { name: 'digits' }), await restOk('/v2/models/digits/stats'));
  const all = await grpc.call('ModelStatistics', {});
  assertSameAsJson(all, await restOk('/v2/models/stats'));
  assert.deepEqual(all.model_stats.map((m: any) => `${m.name}/${m.version}`), ['digits/1', 'digits/2', 'digits/3', 'spare/1', 'spare/2', 'spare/3']);

  const decoded = decodeWithTriton('ModelStatisticsResponse', await rawCall('ModelStatistics', { name: 'digits', version: '1' }));
  assert.deepEqual(assertSameAsJson(decoded, json), []);
});

test('RepositoryIndex, whole and ready only: the REST index; a repository name is refused', async () => {
  assert.equal((await rest('/v2/repository/models/spare/unload', { method: 'POST' })).status, 200);
  try {
    const index = (await restOk('/v2/repository/index', { method: 'POST' })) as RepositoryIndexEntry[];
    const ready = (await restOk('/v2/repository/index', { method: 'POST', body: { ready: true } })) as RepositoryIndexEntry[];
    assert.ok(ready.length < index.length, 'an unloaded model makes the filter count');
    const entries = (models: RepositoryIndexEntry[]) => models.map((e) => ({ name: e.name, version: e.version, state: e.state, reason: e.reason ?? '' }));
    assert.deepEqual((await grpc.call('RepositoryIndex', {})).models, entries(index));
    assert.deepEqual((await grpc.call('RepositoryIndex', { ready: true })).models, entries(ready));
    assert.deepEqual((await grpc.call('RepositoryIndex', { ready: true })).models.map((e: any) => e.name), digitsVersions().map(() => 'digits'));
    assert.ok(index.some((e) => e.name === 'spare' && e.state === 'UNAVAILABLE' && e.reason === 'unloaded by request'));

    const named = await grpc.failure('RepositoryIndex', { repository_name: 'models' });
    assert.equal(named.code, Status.INVALID_ARGUMENT);
    assert.match(named.details, /Inferscope serves one model repository; leave repository_name empty/);
  } finally {
    assert.equal((await rest('/v2/repository/models/spare/load', { method: 'POST' })).status, 200);
  }
});

test('RepositoryModelUnload, then RepositoryModelLoad with a `config` parameter: REST reports the change', async () => {
  assert.deepEqual(await grpc.call('RepositoryModelUnload', { model_name: 'spare', parameters: { unload_dependents: { bool_param: true } } }), {});
  const unloaded = ((await restOk('/v2/repository/index', { method: 'POST' })) as RepositoryIndexEntry[]).filter((e) => e.name === 'spare');
  assert.deepEqual(unloaded.map((e) => e.state), digitsVersions().map(() => 'UNAVAILABLE'));
  assert.equal((await rest('/v2/models/spare/infer', { body: exampleRequest(3) })).status, 404);
  assert.equal((await grpc.failure('ModelConfig', { name: 'spare' })).code, Status.NOT_FOUND);

  const config = JSON.parse(readFileSync(join(repo, 'spare', 'config.json'), 'utf8'));
  config.max_batch_size = 8;
  config.dynamic_batching.max_queue_delay_ms = 2;
  assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'spare', parameters: { config: { string_param: JSON.stringify(config) } } }), {});
  const loaded = ((await restOk('/v2/repository/index', { method: 'POST' })) as RepositoryIndexEntry[]).filter((e) => e.name === 'spare');
  assert.deepEqual(loaded.map((e) => e.state), digitsVersions().map(() => 'READY'));
  const restConfig = await restOk('/v2/models/spare/config');
  assert.equal(restConfig.max_batch_size, 8);
  assert.equal(restConfig.dynamic_batching.max_queue_delay_microseconds, 2000);
  assertSameAsJson((await grpc.call('ModelConfig', { name: 'spare' })).config, restConfig, 'config');
  assert.equal((await rest('/v2/models/spare/infer', { body: exampleRequest(3) })).status, 200);
});

test('errors as REST gives them: unknown model or version NOT_FOUND, bad parameters and a failed load INVALID_ARGUMENT', async () => {
  const fails = async (rpc: string, req: object, code: Status, details: RegExp, restPath?: [string, number, object?]) => {
    const err = await grpc.failure(rpc, req);
    assert.equal(err.code, code, `${rpc} ${JSON.stringify(req)}: ${err.details}`);
    assert.match(err.details, details);
    if (restPath) {
      const r = await rest(restPath[0], { method: restPath[2] ? 'POST' : 'GET', ...(restPath[2] ? { body: restPath[2] } : {}) });
      assert.equal(r.status, restPath[1]);
      assert.equal(r.body.error, err.details, 'the same message as REST');
    }
  };
  await fails('ModelConfig', { name: 'nope' }, Status.NOT_FOUND, /unknown model "nope"/, ['/v2/models/nope/config', 404]);
  await fails('ModelConfig', { name: 'digits', version: '9' }, Status.NOT_FOUND, /has no version 9/, ['/v2/models/digits/versions/9/config', 404]);
  await fails('ModelStatistics', { name: 'nope' }, Status.NOT_FOUND, /unknown model "nope"/, ['/v2/models/nope/stats', 404]);
  await fails('ModelStatistics', { name: 'digits', version: '9' }, Status.NOT_FOUND, /has no version 9/, ['/v2/models/digits/versions/9/stats', 404]);
  await fails('ModelStatistics', { version: '1' }, Status.INVALID_ARGUMENT, /version 1 needs a model name/);
  await fails('RepositoryModelLoad', { model_name: 'nope' }, Status.NOT_FOUND, /no folder .*nope in the model repository/, ['/v2/repository/models/nope/load', 404, {}]);
  await fails('RepositoryModelUnload', { model_name: 'nope' }, Status.NOT_FOUND, /unknown model "nope"/, ['/v2/repository/models/nope/unload', 404, {}]);
  await fails('RepositoryModelLoad', { model_name: 'digits', parameters: { 'file:1/model.onnx': { bytes_param: Buffer.from('onnx') } } }, Status.INVALID_ARGUMENT, /model files in the request \(file:1\/model.onnx\) are not supported/, [
    '/v2/repository/models/digits/load',
    400,
    { parameters: { 'file:1/model.onnx': 'b25ueA==' } },
  ]);
  await fails('RepositoryModelLoad', { model_name: 'digits', parameters: { priority: { int64_param: 2 } } }, Status.INVALID_ARGUMENT, /unknown load parameter priority/, ['/v2/repository/models/digits/load', 400, { parameters: { priority: 2 } }]);
  await fails('RepositoryModelLoad', { model_name: 'digits', parameters: { config: { int64_param: 2 } } }, Status.INVALID_ARGUMENT, /parameter 'config' must be the config.json text/, ['/v2/repository/models/digits/load', 400, { parameters: { config: 2 } }]);
  await fails('RepositoryModelLoad', { model_name: 'digits', parameters: { config: {} } }, Status.INVALID_ARGUMENT, /load parameter config has no value/);
  await fails('RepositoryModelLoad', { model_name: 'digits', parameters: { config: { string_param: '{"max_batch_size": -1}' } } }, Status.INVALID_ARGUMENT, /failed to load digits: .*max_batch_size.*; the versions already loaded keep serving/);
  await fails('RepositoryModelLoad', { repository_name: 'models', model_name: 'digits' }, Status.INVALID_ARGUMENT, /leave repository_name empty/);
  // Names that are not names: the client's mistake, never the agent's INTERNAL.
  await fails('ModelConfig', {}, Status.INVALID_ARGUMENT, /"" is not a valid model name/);
  await fails('ModelStatistics', { name: '../digits' }, Status.INVALID_ARGUMENT, /is not a valid model name/);
  await fails('ModelConfig', { name: 'digits', version: 'x' }, Status.INVALID_ARGUMENT, /"x" is not a valid version/);
  await fails('RepositoryModelLoad', { model_name: '' }, Status.INVALID_ARGUMENT, /is not a valid model name/);
  await fails('RepositoryModelUnload', { model_name: '../digits' }, Status.INVALID_ARGUMENT, /is not a valid model name/);
  // Nothing changed: digits still serves with its own config.
  assert.equal((await restOk('/v2/models/digits/config')).max_batch_size, 64);
});

test('unload during a running canary: FAILED_PRECONDITION, as REST\'s 409; a load keeps the canary\'s versions', async () => {
  const canary = await rest('/api/v1/canaries', { body: { model: 'digits', baseline: '1', candidate: '2', interval_s: 3600 } });
  assert.equal(canary.status, 201, JSON.stringify(canary.body));
  try {
    const err = await grpc.failure('RepositoryModelUnload', { model_name: 'digits' });
    assert.equal(err.code, Status.FAILED_PRECONDITION);
    assert.match(err.details, new RegExp(`canary ${canary.body.id} is running on digits; abort it`));
    const restAnswer = await rest('/v2/repository/models/digits/unload', { method: 'POST' });
    assert.equal(restAnswer.status, 409);
    assert.equal(restAnswer.body.error, err.details);
    assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'digits' }), {});
    assert.ok((await grpc.call('RepositoryIndex', { ready: true })).models.some((e: any) => e.name === 'digits' && e.version === '2'));
  } finally {
    assert.equal((await rest(`/api/v1/canaries/${canary.body.id}`, { method: 'DELETE' })).status, 200);
  }
  assert.deepEqual(await grpc.call('RepositoryModelUnload', { model_name: 'digits' }), {});
  assert.deepEqual(await grpc.call('RepositoryModelLoad', { model_name: 'digits' }), {});
  assert.equal((await rest('/v2/models/digits/infer', { body: exampleRequest(5) })).status, 200);
});

test('with a token, every extension RPC needs `authorization: Bearer <token>` (UNAUTHENTICATED without or wrong)', async () => {
  const anonymous = new InferenceClient(agent.grpcPort!);
  try {
    for (const rpc of RPCS) {
      const req = rpc.startsWith('Repository') ? { model_name: 'spare' } : { name: 'digits' };
      const missing = await anonymous.failure(rpc, req);
      assert.equal(missing.code, Status.UNAUTHENTICATED, rpc);
      assert.match(missing.details, /missing bearer token/);
      assert.equal((await anonymous.failure(rpc, req, { token: 'wrong-token-but-long-enough' })).code, Status.UNAUTHENTICATED, rpc);
    }
  } finally {
    anonymous.close();
  }
  // Nothing was unloaded by the refused calls.
  assert.ok((await grpc.call('RepositoryIndex', { ready: true })).models.some((e: any) => e.name === 'spare'));
});
