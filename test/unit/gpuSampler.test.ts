import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { GpuSampler, parseNvidiaSmiCsv } from '../../agent/src/telemetry/gpuSampler.js';
import { readFileSync } from 'node:fs';
import { ROOT } from '../helpers/agentProcess.js';

const DIR = join(ROOT, 'test', 'fixtures', 'nvidia-smi');
const FAKE = join(DIR, 'fake-nvidia-smi');
const fixture = (name: string) => readFileSync(join(DIR, name), 'utf8');

test('parses output recorded on a real H200', () => {
  const [gpu] = parseNvidiaSmiCsv(fixture('h200-single.csv'));
  assert.deepEqual(gpu, {
    index: 0,
    uuid: 'GPU-b933bfda-a37b-e33f-7525-a77efccb093e',
    name: 'NVIDIA H200',
    utilization: 0,
    memory_used_bytes: 0,
    memory_total_bytes: 143771 * 1024 * 1024,
    temperature_celsius: 44,
    power_watts: 114.54,
    mig_mode: 'Disabled',
  });
});

test('several GPUs, MIG and [N/A] fields: one entry per GPU, missing fields left out', () => {
  const multi = parseNvidiaSmiCsv(fixture('multi-gpu.csv'));
  assert.deepEqual(multi.map((g) => [g.index, g.utilization, g.power_watts]), [[0, 0.87, 512.4], [1, 0.12, 118.75]]);
  const [mig] = parseNvidiaSmiCsv(fixture('mig.csv'));
  assert.equal(mig!.utilization, undefined);
  assert.equal(mig!.mig_mode, 'Enabled');
  assert.equal(mig!.memory_used_bytes, 3840 * 1024 * 1024);
  const [t4] = parseNvidiaSmiCsv(fixture('not-available.csv'));
  assert.deepEqual([t4!.temperature_celsius, t4!.power_watts, t4!.mig_mode, t4!.utilization], [undefined, undefined, undefined, 0.05]);
});

test('a product name with commas is kept whole', () => {
  const [g] = parseNvidiaSmiCsv('3, GPU-x, Quadro RTX 8000, Mobile, 7, 100, 2048, 50, 30.5, [N/A]');
  assert.deepEqual([g!.index, g!.name, g!.utilization, g!.power_watts], [3, 'Quadro RTX 8000, Mobile', 0.07, 30.5]);
});

test('malformed output is rejected with what is wrong', () => {
  assert.throws(() => parseNvidiaSmiCsv(fixture('malformed.csv')), /line 1: 1 fields, expected 9/);
  assert.throws(() => parseNvidiaSmiCsv('0, u, n, lots, 1, 2, 3, 4, Disabled'), /utilization.gpu is "lots", not a number/);
});

const sampler = (env: Record<string, string>, timeoutMs = 2000) => {
  Object.assign(process.env, env);
  return new GpuSampler({ command: FAKE, intervalMs: 60_000, timeoutMs });
};

test('the sampler reads a GPU, and says "no GPU detected" when nvidia-smi is missing or sees none', async () => {
  const ok = sampler({ FAKE_NVIDIA_SMI_MODE: 'file', FAKE_NVIDIA_SMI_FILE: join(DIR, 'h200-single.csv') });
  await ok.sampleOnce();
  assert.equal(ok.status.detected, true);
  assert.equal(ok.status.message, '1 GPU: NVIDIA H200');
  const none = new GpuSampler({ command: join(DIR, 'no-such-nvidia-smi'), intervalMs: 60_000, timeoutMs: 1000 });
  await none.start();
  assert.deepEqual([none.status.detected, none.status.devices, none.status.message], [false, [], `no GPU detected (${join(DIR, 'no-such-nvidia-smi')} not found)`]);
  const nodev = sampler({ FAKE_NVIDIA_SMI_MODE: 'nodevice' });
  await nodev.sampleOnce();
  assert.equal(nodev.status.message, 'no GPU detected (nvidia-smi: No devices were found)');
});

test('a hung, failing or garbled nvidia-smi skips the sample, counts an error, keeps the last good one', async () => {
  const s = sampler({ FAKE_NVIDIA_SMI_MODE: 'file', FAKE_NVIDIA_SMI_FILE: join(DIR, 'multi-gpu.csv') }, 300);
  await s.sampleOnce();
  const errors: string[] = [];
  s.on('error', (m) => errors.push(m));
  process.env.FAKE_NVIDIA_SMI_MODE = 'hang';
  const started = Date.now();
  await s.sampleOnce();
  assert.ok(Date.now() - started < 3000, 'the hung command was killed');
  process.env.FAKE_NVIDIA_SMI_MODE = 'fail';
  await s.sampleOnce();
  process.env.FAKE_NVIDIA_SMI_MODE = 'file';
  process.env.FAKE_NVIDIA_SMI_FILE = join(DIR, 'malformed.csv');
  await s.sampleOnce();
  assert.equal(s.status.errors, 3);
  assert.match(errors[0]!, /did not answer within 300 ms/);
  assert.match(errors[1]!, /nvidia-smi failed/);
  assert.match(errors[2]!, /fields, expected 9/);
  assert.equal(s.status.devices.length, 2, 'the last good sample stays');
  assert.equal(s.status.detected, true);
});
