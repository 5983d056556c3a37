// Issue 16, items 5, 6 and 10 on the real agent with real models: what a client sends can fail
// its own request, never the model for everyone (breaker), never the agent's memory.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentStatus, InferResponse } from '../../common/api.js';
import { writeConstantOfShapeModel, writeMatMulModel } from '../fixtures/shapeModels.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';

const OUTPUT_BOUND = 1_000_000;
const repo = mkdtempSync(join(tmpdir(), 'inferscope-blame-'));
let agent: AgentProcess;

before(async () => {
  writeMatMulModel(join(repo, 'mm'));
  writeConstantOfShapeModel(join(repo, 'zeros'));
  const digits = (name: string, maxBatchSize: number) => {
    cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, name, '1'), { recursive: true });
    writeFileSync(join(repo, name, 'config.json'), JSON.stringify({ max_batch_size: maxBatchSize }));
  };
  digits('wide', 65_536);
  digits('huge', 1e9);
  const config = join(repo, 'agent.json');
  writeFileSync(config, JSON.stringify({ max_elements_per_output: OUTPUT_BOUND }));
  agent = await startAgent({ args: ['--models', repo, '--config', config], waitReady: false, timeoutMs: 60_000 });
  await waitFor(async () => (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models.every((m) => m.versions.every((v) => v.state !== 'loading')), 60_000);
});
after(async () => {
  await agent.stop();
  rmSync(repo, { recursive: true, force: true });
});

type Answer = InferResponse & { error?: string };
const matmul = (shape: number[]) =>
  request<Answer>(`${agent.url}/v2/models/mm/infer`, {
    body: { inputs: [{ name: 'x', shape, datatype: 'FP32', data: new Array(shape.reduce((a, b) => a * b, 1)).fill(1) }] },
  });
const zeros = (a: number, b: number) =>
  request<Answer>(`${agent.url}/v2/models/zeros/infer`, { body: { inputs: [{ name: 'shape', shape: [2], datatype: 'INT64', data: [a, b] }] } });
const breakerOf = async (model: string) =>
  (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models.find((m) => m.name === model)!.versions[0]!.breaker!;

/** The agent's resident memory (kB) now, and at its peak. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

test('inputs ONNX Runtime cannot run, of a shape that never ran, are 400s the breaker never counts', async () => {
  // [1, 3] passes the graph's declared shape ([batch, m], both symbolic); the MatMul node fails.
  for (let i = 0; i < 6; i++) {
    const bad = await matmul([1, 3]);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.match(bad.body.error!, /^mm\/1 failed to run: .*MatMul.* no input of this shape \(x \[1, 3\]\) has run on mm\/1, so the input is taken to be at fault$/);
  }
  // Zero rows and a dimension of 2^53 - 1 (no elements at all): refused before ONNX Runtime.
  const empty = await request<Answer>(`${agent.url}/v2/models/mm/infer`, { body: { inputs: [{ name: 'x', shape: [0, 9007199254740991], datatype: 'FP32', data: [] }] } });
  assert.equal(empty.status, 400);
  // (A model failure on a shape that has run stays the model's, 500 and counted: reliability.test.ts.)
  const breaker = await breakerOf('mm');
  assert.equal(breaker.state, 'closed', 'three consecutive model failures would have opened it');
  const good = await matmul([2, 4]);
  assert.equal(good.status, 200, JSON.stringify(good.body));
  assert.deepEqual(good.body.outputs[0]!.data, [2, 2, 2, 2]);
  const metrics = (await request<string>(`${agent.url}/metrics`)).body;
  assert.match(metrics, /inferscope_inference_requests_total\{model="mm",version="1",outcome="invalid_input"\} 7/);
  assert.match(metrics, /inferscope_inference_requests_total\{model="mm",version="1",outcome="execution_failed"\} 0/);
});

test('an output over max_elements_per_output is refused (400) before the reply is built, and its memory is given back', async () => {
  const before = memoryOf(agent.proc.pid!);
  const small = await zeros(10, 10);
  assert.equal(small.status, 200);
  assert.equal((small.body.outputs[0]!.data as number[]).length, 100);
  // 10,000 × 10,000 floats: 400 MB that ONNX Runtime must allocate to find out.
  const started = Date.now();
  const big = await zeros(10_000, 10_000);
  assert.equal(big.status, 400, JSON.stringify(big.body).slice(0, 300));
  assert.match(big.body.error!, /^zeros\/1: output 'y' has 100000000 elements \[10000, 10000\]; at most 1000000 are returned per request$/);
  const meanwhile = await request<Answer>(`${agent.url}/v2/models/wide/infer`, { body: exampleRequest(1) });
  assert.equal(meanwhile.status, 200, 'the agent keeps serving');
  // The worker's memory goes back: no arena keeps it, and the main thread never held it.
  let after = memoryOf(agent.proc.pid!);
  await waitFor(async () => (after = memoryOf(agent.proc.pid!)).rss - before.rss < 150_000, 10_000).catch(() => {});
  assert.ok(after.rss - before.rss < 150_000, `RSS grew by ${Math.round((after.rss - before.rss) / 1024)} MiB and stayed (before ${before.rss} kB, after ${after.rss} kB, peak ${after.peak} kB, ${Date.now() - started} ms)`);
  assert.equal((await breakerOf('zeros')).state, 'closed');
  for (let i = 0; i < 3; i++) assert.equal((await zeros(5000, 5000)).status, 400);
  assert.equal((await breakerOf('zeros')).state, 'closed', 'oversized outputs are not model failures');
});

test('max_batch_size is bounded, and warm-up stays within the largest request', async () => {
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
  const huge = status.models.find((m) => m.name === 'huge')!;
  assert.match(huge.error ?? '', /max_batch_size.*expected an integer from 0 to 65536/);
  const wide = status.models.find((m) => m.name === 'wide')!;
  assert.equal(wide.versions[0]!.state, 'ready');
  assert.equal(wide.versions[0]!.instances, 1);
  // Warm-up of 65,536 rows × 784 would hold 205 MB per batch; it stops at the largest request
  // (max_elements_per_input, 4 Mi elements: 4,096 rows).
  assert.ok(memoryOf(agent.proc.pid!).peak < 1_500_000, `peak RSS ${memoryOf(agent.proc.pid!).peak} kB`);
  assert.equal((await request(`${agent.url}/v2/models/wide/ready`)).status, 200);
  // (A version without a live instance is not ready: instanceLiveness.test.ts.)
});
