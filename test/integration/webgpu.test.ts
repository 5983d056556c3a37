// Issue 15: GPU inference through the WebGPU execution provider of the stock onnxruntime-node, on
// SwiftShader's Vulkan driver (a real Vulkan device emulated on the CPU; Debian's chromium ships
// it). Before the device thread, an agent with digits/1 and digits/2 both on webgpu died with
// SIGSEGV while loading them. Here both load, serve concurrent batched traffic with the CPU
// provider's answers, say where they run, account the device's time, and with no adapter fall
// back to the CPU saying why.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { AgentStatus } from '../../common/api.js';
import { BUNDLED_MODELS, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { requireSwiftShader } from '../helpers/systemBinary.js';

const swiftshader = requireSwiftShader();
const skip = 'skip' in swiftshader ? swiftshader.skip : false;
const repo = mkdtempSync(join(tmpdir(), 'inferscope-webgpu-'));
after(() => rmSync(repo, { recursive: true, force: true }));

before(() => {
  for (const v of ['1', '2']) cpSync(join(BUNDLED_MODELS, 'digits', v), join(repo, 'digits', v), { recursive: true });
  const config = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'config.json'), 'utf8')) as Record<string, unknown>;
  delete config.features;
  delete config.default_version;
  // Two batches of each version may wait on the device; batches form over 2 ms.
  Object.assign(config, { execution_providers: [{ name: 'webgpu', options: { validationMode: 'basic' } }, 'cpu'], instance_count: 2, dynamic_batching: { max_queue_delay_ms: 2, max_queue_size: 1024 } });
  writeFileSync(join(repo, 'digits', 'config.json'), JSON.stringify(config));
});

const metric = (text: string, name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

function pixelsOf(label: number): number[] {
  return exampleRequest(label).inputs[0]!.data as number[];
}

test('digits/1 and digits/2 both on webgpu: concurrent batched traffic gets the CPU provider\'s answers; status and metrics say webgpu; device time adds up', { skip }, async () => {
  const agent = await startAgent({ args: ['--models', repo, '--grpc-port', 'off'], env: { VK_ICD_FILENAMES: (swiftshader as { icd: string }).icd }, timeoutMs: 60_000 });
  try {
    await waitFor(async () => (await request(`${agent.url}/v2/health/ready`)).status === 200, 60_000);
    const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
    const versions = status.models.find((m) => m.name === 'digits')!.versions;
    assert.deepEqual(versions.map((v) => [v.version, v.state, v.execution_provider, v.provider_fallbacks, v.instances]), [
      ['1', 'ready', 'webgpu', undefined, 2],
      ['2', 'ready', 'webgpu', undefined, 2],
    ]);
    const before = (await request<string>(`${agent.url}/metrics`)).body;
    assert.equal(metric(before, 'inferscope_model_info', 'model="digits",version="1",provider="webgpu"'), 1);
    assert.equal(metric(before, 'inferscope_model_info', 'model="digits",version="2",provider="webgpu"'), 1);

    // The CPU provider's answers, in this process.
    const cpu = Object.fromEntries(await Promise.all(['1', '2'].map(async (v) => [v, await ort.InferenceSession.create(join(repo, 'digits', v, 'model.onnx'))] as const)));
    const started = Date.now();
    const calls = Array.from({ length: 48 }, async (_, i) => {
      const version = String((i % 2) + 1);
      const rows = (i % 4) + 1;
      const digits = Array.from({ length: rows }, (_, r) => (i + r) % 10);
      const data = digits.flatMap(pixelsOf);
      const answer = await request<{ model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] }>(`${agent.url}/v2/models/digits/versions/${version}/infer`, {
        body: { inputs: [{ name: 'pixels', shape: [rows, 784], datatype: 'FP32', data }] },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const expected = await cpu[version]!.run({ pixels: new ort.Tensor('float32', Float32Array.from(data), [rows, 784]) });
      const want = expected.probs!.data as Float32Array;
      const got = answer.body.outputs[0]!.data;
      assert.equal(got.length, want.length);
      for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-5, `digits/${version} row value ${k}: ${got[k]} vs CPU ${want[k]}`);
    });
    await Promise.all(calls);
    const elapsed = (Date.now() - started) / 1000;

    const after = (await request<string>(`${agent.url}/metrics`)).body;
    const busy = (v: string, text: string) => metric(text, 'inferscope_device_busy_seconds_total', `model="digits",version="${v}",device="webgpu"`);
    const compute = (v: string, text: string) => metric(text, 'inferscope_compute_duration_seconds_sum', `model="digits",version="${v}"`);
    const delta = ['1', '2'].map((v) => busy(v, after) - busy(v, before));
    assert.ok(delta.every((d) => d > 0), `both versions used the device: ${delta}`);
    // One batch at a time on the device: the versions' device time together fits in the wall time.
    assert.ok(delta[0]! + delta[1]! <= elapsed, `device time ${delta[0]! + delta[1]!} s within ${elapsed} s`);
    // Each batch's compute time (hand-off, wait for its turn, run) holds its device time.
    for (const [i, v] of ['1', '2'].entries()) assert.ok(compute(v, after) - compute(v, before) >= delta[i]!, `digits/${v}: compute ≥ device time`);
    assert.equal(agent.proc.exitCode, null, 'the agent is still running');
    assert.doesNotMatch(agent.stderr(), /falling back/);
  } finally {
    await agent.stop();
  }
});

test('no WebGPU adapter: the versions fall back to cpu, and status, metrics and the log say why', { skip }, async () => {
  // A driver manifest that does not exist: the Vulkan loader finds no device.
  const agent = await startAgent({ args: ['--models', repo, '--grpc-port', 'off'], env: { VK_ICD_FILENAMES: join(repo, 'no-such-driver.json') }, timeoutMs: 60_000 });
  try {
    await waitFor(async () => (await request(`${agent.url}/v2/health/ready`)).status === 200, 60_000);
    const versions = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body.models[0]!.versions;
    for (const v of versions) {
      assert.equal(v.execution_provider, 'cpu');
      assert.equal(v.instances, 2, 'on cpu, instance_count is worker threads again');
      assert.equal(v.provider_fallbacks?.length, 1);
      assert.match(v.provider_fallbacks![0]!, /^webgpu: Failed to get a WebGPU adapter/);
    }
    const text = (await request<string>(`${agent.url}/metrics`)).body;
    assert.equal(metric(text, 'inferscope_model_info', 'model="digits",version="1",provider="cpu"'), 1);
    assert.match(agent.stderr(), /execution provider unavailable, falling back model=digits\/1 detail="webgpu: Failed to get a WebGPU adapter[^"]*" using=cpu/);
    const answer = await request<{ outputs: { data: number[] }[] }>(`${agent.url}/v2/models/digits/versions/1/infer`, { body: exampleRequest(3) });
    assert.equal(answer.status, 200);
  } finally {
    await agent.stop();
  }
});
