// npm run bench:gpu — CPU against WebGPU on a model where a GPU matters (scripts/lib/gpuBenchModel.ts:
// MLP 784-2048-2048-10, 0.75 GFLOP per 64 rows), in two parts:
//   1. Sessions alone, in this process: the CPU provider on 1 thread and on every core, and the
//      webgpu provider, at batch 1/8/64/256: items/s and p50 per batch, every output checked
//      against the CPU's (max abs difference).
//   2. Through the agent's batcher: the agent serving the model on webgpu and on cpu, one row per
//      request, 256 connections from wrk (a separate process): req/s, p50, mean batch size, and
//      the device's busy share.
// WebGPU runs on whatever Vulkan device the loader finds (VK_ICD_FILENAMES picks one). On
// SwiftShader (a CPU emulation, what CI has) the figures say nothing about GPUs: the bench says so.
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ensureGpuBenchModel, FLOPS_PER_ROW, GPU_BENCH_MODEL } from '../scripts/lib/gpuBenchModel.js';
import { seededRandom } from '../scripts/lib/random.js';
import { median, requireWrk, startChild, stop, wrk, wrkScript } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    batches: { type: 'string', default: '1,8,64,256' },
    connections: { type: 'string', default: '256' },
    'skip-agent': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const batches = values.batches.split(',').map(Number);
const connections = Number(values.connections);
const root = resolve(__dirname, '..');
const repository = join(root, 'bench', 'models');
const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? '';

interface Row {
  provider: string;
  batch: number;
  itemsPerS: number;
  p50ms: number;
  maxAbsDiff: number;
}

function input(rows: number): Float32Array {
  const random = seededRandom(rows);
  return Float32Array.from({ length: rows * 784 }, () => random());
}

/** Runs `batch` rows again and again for `seconds` (at least 3 runs, after 2 warm-up runs). */
async function measure(session: ort.InferenceSession, batch: number): Promise<{ itemsPerS: number; p50ms: number; out: Float32Array<ArrayBufferLike> }> {
  const data = input(batch);
  const feeds = () => ({ pixels: new ort.Tensor('float32', data, [batch, 784]) });
  let out: Float32Array<ArrayBufferLike> = new Float32Array(0);
  for (let i = 0; i < 2; i++) out = (await session.run(feeds())).probs!.data as Float32Array;
  const times: number[] = [];
  const started = performance.now();
  while (times.length < 3 || performance.now() - started < seconds * 1000) {
    const t = performance.now();
    await session.run(feeds());
    times.push(performance.now() - t);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { itemsPerS: (times.length * batch) / elapsed, p50ms: median(times), out };
}

async function sessions(): Promise<Row[]> {
  const modelPath = join(ensureGpuBenchModel(repository, { execution_providers: ['cpu'] }), '1', 'model.onnx');
  const cores = cpus().length;
  const providers: [string, ort.InferenceSession.SessionOptions][] = [
    ['cpu, 1 thread', { executionProviders: ['cpu'], intraOpNumThreads: 1 }],
    [`cpu, ${cores} threads`, { executionProviders: ['cpu'], intraOpNumThreads: cores }],
    ['webgpu', { executionProviders: [{ name: 'webgpu', validationMode: 'wgpuOnly' } as ort.InferenceSession.ExecutionProviderConfig] }],
  ];
  const reference = new Map<number, Float32Array<ArrayBufferLike>>();
  const rows: Row[] = [];
  for (const [provider, options] of providers) {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all', ...options });
    } catch (err) {
      console.log(`${provider}: unavailable (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    for (const batch of batches) {
      const r = await measure(session, batch);
      const ref = reference.get(batch) ?? (reference.set(batch, r.out), r.out);
      let maxAbsDiff = 0;
      for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref[i]! - r.out[i]!));
      rows.push({ provider, batch, itemsPerS: r.itemsPerS, p50ms: r.p50ms, maxAbsDiff });
      console.log(`  ${provider.padEnd(16)} batch ${String(batch).padStart(4)}: ${r.itemsPerS.toFixed(0).padStart(8)} items/s, p50 ${r.p50ms.toFixed(2)} ms per batch, max |Δ| vs cpu ${maxAbsDiff.toExponential(1)}`);
    }
    await session.release();
  }
  return rows;
}

async function throughAgent(provider: 'webgpu' | 'cpu'): Promise<void> {
  const cores = cpus().length;
  // Requests wait up to 2 ms to form batches; on cpu one instance on every core, as the best
  // single-instance CPU setting for a model this size.
  ensureGpuBenchModel(repository, {
    execution_providers: [provider],
    intra_op_threads: provider === 'cpu' ? cores : 1,
    instance_count: 2,
    dynamic_batching: { max_queue_delay_ms: 2, max_queue_size: 4096 },
  });
  const agent = await startChild([join(root, 'dist', 'agent', 'main.js'), '--models', repository, '--port', '0', '--grpc-port', 'off', '--log-level', 'warn']);
  try {
    const base = `http://127.0.0.1:${agent.port}`;
    // Warm-up runs every batch size up to 256 on the device first: minutes on an emulated one.
    type Status = { agent: { loaded: boolean }; models: { versions: { state: string; reason?: string; execution_provider?: string; provider_fallbacks?: string[] }[] }[] };
    let status: Status | undefined;
    for (const until = Date.now() + 15 * 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      status = (await (await fetch(`${base}/api/v1/status`)).json()) as Status;
      if (status.agent.loaded) break;
    }
    const v = status?.models[0]?.versions[0];
    if (v?.state !== 'ready' || v.execution_provider !== provider) {
      console.log(`  agent on ${provider}: not served on ${provider} (${v?.execution_provider ? `runs on ${v.execution_provider}: ${v.provider_fallbacks?.join('; ')}` : (v?.reason ?? 'never loaded')}); skipped`);
      return;
    }
    const header = `{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}`;
    const work = mkdtempSync(join(tmpdir(), 'inferscope-bench-gpu-'));
    const script = wrkScript(work, 'row', Buffer.concat([Buffer.from(header), Buffer.from(input(1).buffer)]), { 'Inference-Header-Content-Length': String(header.length) });
    const url = `${base}/v2/models/${GPU_BENCH_MODEL}/infer`;
    wrk(url, script, 1, connections);
    const scrape = async () => (await (await fetch(`${base}/metrics`)).text());
    const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const before = await scrape();
    const r = wrk(url, script, seconds * 2, connections);
    const after = await scrape();
    const delta = (name: string) => value(after, name) - value(before, name);
    const meanBatch = delta('inferscope_batch_size_sum') / delta('inferscope_batch_size_count');
    const busyShare = delta('inferscope_device_busy_seconds_total') / (seconds * 2);
    console.log(`  agent on ${provider.padEnd(6)}: ${r.rps.toFixed(0).padStart(7)} req/s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms, mean batch ${meanBatch.toFixed(1)} rows, device busy ${(busyShare * 100).toFixed(0)}% (per instance-second on cpu), errors ${r.errors}`);
  } finally {
    await stop(agent.proc);
  }
}

async function main(): Promise<void> {
  console.log(`bench:gpu — ${GPU_BENCH_MODEL} (${((FLOPS_PER_ROW * 64) / 1e9).toFixed(2)} GFLOP per 64 rows); ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); node ${process.version}; Vulkan driver: ${icd || '(the loader\'s default)'}`);
  if (/swiftshader/i.test(icd)) console.log('NOTE: SwiftShader is a CPU emulation of a GPU: the webgpu figures below say nothing about a GPU (the outputs are still checked).');
  console.log('\n1. Sessions alone, in this process');
  const rows = await sessions();
  const cpuAll = (batch: number) => rows.find((r) => r.provider.startsWith('cpu,') && !r.provider.endsWith(' 1 thread') && r.batch === batch);
  for (const r of rows.filter((x) => x.provider === 'webgpu')) {
    const c = cpuAll(r.batch);
    if (c) console.log(`  webgpu / cpu (all cores), batch ${r.batch}: ${(r.itemsPerS / c.itemsPerS).toFixed(2)}×`);
  }
  const worst = Math.max(0, ...rows.map((r) => r.maxAbsDiff));
  console.log(`  largest output difference from cpu, 1 thread: ${worst.toExponential(2)} (probabilities; goal ≤ 1e-4)`);
  if (!values['skip-agent']) {
    requireWrk('bench:gpu');
    console.log(`\n2. Through the agent's batcher: one row per request, ${connections} connections (wrk), ${seconds * 2} s`);
    await throughAgent('cpu');
    await throughAgent('webgpu');
  }
  if (worst > 1e-4) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
