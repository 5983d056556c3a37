// Every Open Inference Protocol v2 endpoint of the real agent process, over real HTTP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AgentStatus, InferResponse, ModelMetadata } from '../../common/api.js';
import { startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';

let agent: AgentProcess;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  assert.equal(await agent.stop(), 0);
});

test('health: live and ready', async () => {
  assert.deepEqual(await request(`${agent.url}/v2/health/live`).then((r) => [r.status, r.body]), [200, { live: true }]);
  assert.deepEqual(await request(`${agent.url}/v2/health/ready`).then((r) => [r.status, r.body]), [200, { ready: true }]);
});

test('server metadata', async () => {
  const r = await request(`${agent.url}/v2`);
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'inferscope');
  assert.match(r.body.version, /^\d+\.\d+\.\d+/);
  assert.ok(r.body.extensions.includes('classification'));
});

test('model metadata, unversioned and versioned', async () => {
  const expected: ModelMetadata = {
    name: 'digits',
    versions: ['1', '2', '3'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 784] }],
    outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
  };
  assert.deepEqual((await request(`${agent.url}/v2/models/digits`)).body, expected);
  assert.deepEqual((await request(`${agent.url}/v2/models/digits/versions/2`)).body, expected);
});

test('model readiness, and 404 for unknown models and versions', async () => {
  assert.deepEqual((await request(`${agent.url}/v2/models/digits/ready`)).body, { name: 'digits', ready: true });
  assert.equal((await request(`${agent.url}/v2/models/digits/versions/1/ready`)).status, 200);
  const unknown = await request(`${agent.url}/v2/models/nope/ready`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error, /unknown model "nope"; models in the repository: digits/);
  const noVersion = await request(`${agent.url}/v2/models/digits/versions/9`);
  assert.equal(noVersion.status, 404);
  assert.match(noVersion.body.error, /model digits has no version 9; its versions: 1, 2/);
});

test('infer: a held-out digit is predicted by the default version and by each version', async () => {
  const body = exampleRequest(7);
  const r = await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body });
  assert.equal(r.status, 200);
  assert.equal(r.body.model_name, 'digits');
  assert.equal(r.body.model_version, '1');
  assert.equal(r.body.id, body.id);
  const out = r.body.outputs[0]!;
  assert.deepEqual([out.name, out.datatype, out.shape], ['probs', 'FP32', [1, 10]]);
  assert.equal(argmax(out.data as number[]), 7);
  assert.ok(Math.abs((out.data as number[]).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  for (const version of ['1', '2']) {
    const v = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/${version}/infer`, { body: exampleRequest(3) });
    assert.equal(v.body.model_version, version);
    assert.equal(argmax(v.body.outputs[0]!.data as number[]), 3);
  }
});

test('infer: a batch of rows, nested data, gets one row of output per input row', async () => {
  const rows = [0, 1, 2, 3].map((d) => exampleRequest(d).inputs[0]!.data as number[]);
  const r = await request<InferResponse>(`${agent.url}/v2/models/digits/versions/2/infer`, {
    body: { inputs: [{ name: 'pixels', shape: [4, 784], datatype: 'FP32', data: rows }] },
  });
  assert.equal(r.status, 200);
  const data = r.body.outputs[0]!.data as number[];
  assert.deepEqual(r.body.outputs[0]!.shape, [4, 10]);
  assert.deepEqual([0, 1, 2, 3].map((i) => argmax(data, i * 10, 10)), [0, 1, 2, 3]);
});

test('infer: Triton classification extension returns "<score>:<index>:<label>"', async () => {
  const body = { ...exampleRequest(4), outputs: [{ name: 'probs', parameters: { classification: 3 } }] };
  const r = await request<InferResponse>(`${agent.url}/v2/models/digits/infer`, { body });
  assert.equal(r.status, 200);
  const out = r.body.outputs[0]!;
  assert.deepEqual([out.datatype, out.shape], ['BYTES', [1, 3]]);
  const [score, index, label] = (out.data![0] as string).split(':');
  assert.deepEqual([index, label], ['4', '4']);
  assert.ok(Number(score) > 0.5 && Number(score) <= 1);
  const scores = (out.data as string[]).map((s) => Number(s.split(':')[0]));
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
});

test('repository index lists every version with its state; {"ready":true} filters', async () => {
  const all = await request(`${agent.url}/v2/repository/index`, { method: 'POST' });
  assert.deepEqual(all.body, [
    { name: 'digits', version: '1', state: 'READY' },
    { name: 'digits', version: '2', state: 'READY' },
    { name: 'digits', version: '3', state: 'READY' },
  ]);
  const ready = await request(`${agent.url}/v2/repository/index`, { body: { ready: true } });
  assert.equal(ready.body.length, 3);
});

test('status API shows agent, models, versions and their execution provider', async () => {
  const r = await request<AgentStatus>(`${agent.url}/api/v1/status`);
  assert.equal(r.status, 200);
  assert.equal(r.body.agent.pid, agent.proc.pid);
  assert.equal(r.body.agent.address, `127.0.0.1:${agent.port}`);
  assert.equal(r.body.agent.ready, true);
  const digits = r.body.models.find((m) => m.name === 'digits')!;
  assert.equal(digits.default_version, '1');
  assert.deepEqual(digits.versions.map((v) => [v.version, v.state, v.execution_provider, v.instances, v.is_default]), [
    ['1', 'ready', 'cpu', 1, true],
    ['2', 'ready', 'cpu', 1, false],
    ['3', 'ready', 'cpu', 1, false],
  ]);
  // No CUDA here: the configured ["cuda","cpu"] fell back, and the log says so.
  assert.match(agent.stderr(), /execution provider unavailable, falling back model=digits\/1 detail="cuda:/);
});

test('metrics count requests by model, version and outcome, and time them', async () => {
  const before = await request<string>(`${agent.url}/metrics`);
  const count = (text: string, outcome: string) =>
    Number(new RegExp(`inferscope_inference_requests_total\\{model="digits",version="2",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  await request(`${agent.url}/v2/models/digits/versions/2/infer`, { body: exampleRequest(1) });
  await request(`${agent.url}/v2/models/digits/versions/2/infer`, { body: { inputs: [{ name: 'pixels', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] } });
  const afterText = (await request<string>(`${agent.url}/metrics`)).body;
  assert.equal(count(afterText, 'success'), count(before.body, 'success') + 1);
  assert.equal(count(afterText, 'invalid_input'), count(before.body, 'invalid_input') + 1);
  assert.match(afterText, /inferscope_inference_request_duration_seconds_count\{model="digits",version="2"\} [1-9]/);
  assert.match(afterText, /inferscope_model_state\{model="digits",version="1",state="ready"\} 1/);
  assert.match(afterText, /process_resident_memory_bytes \d+/);
  assert.match(afterText, /inferscope_http_requests_total\{method="POST",route="\/v2\/models\/:model\{\/versions\/:version\}\/infer",code="400"\} \d+/);
  assert.match(before.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const om = await fetch(`${agent.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
  assert.match(om.headers.get('content-type')!, /^application\/openmetrics-text/);
  const omText = await om.text();
  assert.match(omText, /# EOF\n$/);
  assert.match(omText, /^# TYPE inferscope_inference_requests counter$/m);
  assert.match(omText, /^inferscope_inference_requests_total\{model="digits",version="2",outcome="success"\} \d+$/m);
  // An OpenMetrics scrape must not change what the next Prometheus-format scrape says.
  const again = (await request<string>(`${agent.url}/metrics`)).body;
  assert.match(again, /^# TYPE inferscope_inference_requests_total counter$/m);
  assert.match(again, /^inferscope_inference_requests_total\{model="digits",version="2",outcome="success"\} \d+$/m);
});

test('unknown routes get a JSON 404', async () => {
  const r = await request(`${agent.url}/v3/models`);
  assert.equal(r.status, 404);
  assert.match(r.body.error, /no route GET \/v3\/models/);
});
