// npm run bench:grpc — the gRPC endpoint against the agent's REST JSON and REST binary figures,
// measured in the same run, each load from its own C process (wrk for REST, 64 connections;
// h2load for gRPC, 64 calls in flight on one connection, raw contents as tritonclient sends by
// default), one digit per call on digits/2; then 64 rows per call, gRPC and REST binary, against
// the in-process limit (back-to-back runs of 64 rows on the model's instance pool: no HTTP, no
// queue), and through the dynamic batcher (4 calls of 64 rows in flight, as the gRPC load). Every
// gRPC call is checked to have succeeded (the agent's success counter). Beside each rate, the
// server's CPU time per call (all its threads, from /proc): its own cost, which the load generator
// on the same cores does not blur; and h2load's own CPU per call. The floor: a bare node:http2
// server (bench/lib/bareGrpcServer.mjs) that only receives the 64-row message and answers, under
// the same load in the same rounds: what any Node server pays per call before doing anything.
// Goals (issue 18): gRPC ≥ 1.5 × REST JSON req/s; at 64 rows per call ≥ 0.8 × the in-process items/s.
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamicBatcher } from '../agent/src/batching/dynamicBatcher.js';
import { InstancePool } from '../agent/src/inference/instancePool.js';
import { systemClock } from '../agent/src/time/clock.js';
import { silentLogger } from '../agent/src/log/logger.js';
import protobuf from 'protobufjs';
import { closedLoop } from './lib/closedLoop.js';
import { cpuSeconds } from './lib/procCpu.js';
import { grpcFrame, h2load, requireH2load, type H2Result } from './lib/h2load.js';
import { median, requireWrk, startChild, stop, waitReady, wrk, wrkScript, type WrkResult } from './lib/wrk.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '64' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'inferscope-bench-grpc-'));
requireWrk('bench:grpc');
requireH2load('bench:grpc');

const jsonBody = readFileSync(join(root, 'models', 'digits', 'examples', 'digit-7.json'));
const pixels = (JSON.parse(jsonBody.toString()) as { inputs: { data: number[] }[] }).inputs[0]!.data;
const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
const jsonScript = wrkScript(work, 'json', jsonBody, { 'Content-Type': 'application/json' });
const binaryScript = wrkScript(work, 'binary', Buffer.concat([Buffer.from(header), Buffer.from(Float32Array.from(pixels).buffer)]), { 'Inference-Header-Content-Length': String(header.length) });

const inferRequest = new protobuf.Root().loadSync(join(root, 'agent', 'proto', 'inference.proto'), { keepCase: true }).lookupType('inference.ModelInferRequest');
function grpcBody(rows: number): Buffer {
  const data = Float32Array.from(Array.from({ length: rows }, () => pixels).flat());
  const message = { model_name: 'digits', model_version: '2', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [rows, 784] }], raw_input_contents: [Buffer.from(data.buffer)] };
  return grpcFrame(inferRequest.encode(inferRequest.fromObject(message)).finish());
}
function restBinary(rows: number): string {
  const head = `{"inputs":[{"name":"pixels","shape":[${rows},784],"datatype":"FP32","parameters":{"binary_data_size":${rows * 3136}}}],"parameters":{"binary_data_output":true}}`;
  const data = Float32Array.from(Array.from({ length: rows }, () => pixels).flat());
  return wrkScript(work, `binary${rows}`, Buffer.concat([Buffer.from(head), Buffer.from(data.buffer)]), { 'Inference-Header-Content-Length': String(head.length) });
}

interface InProcess {
  /** Back-to-back runs on the pool: rows/s, and CPU µs per call of the whole process. */
  limit: number;
  limitCpuUs: number;
  /** The same rows through the dynamic batcher, 4 calls in flight. */
  batcher: number;
  batcherCpuUs: number;
}

/**
 * Back-to-back runs of 64 rows on the model's pool (1 instance, as configured): what no server can
 * beat; then the same calls through the model's dynamic batcher, 4 in flight as the gRPC load.
 */
async function inProcess(rows: number): Promise<InProcess> {
  const { pool } = await InstancePool.start({
    workerFile: join(root, 'dist', 'agent', 'inferenceWorker.js'),
    init: { modelPath: join(root, 'models', 'digits', '2', 'model.onnx'), provider: { name: 'cpu', options: {} }, intraOpThreads: 1 },
    count: 1,
    label: 'digits/2',
    logger: silentLogger,
  });
  const data = new Float32Array(rows * 784);
  for (let r = 0; r < rows; r++) data.set(pixels, r * 784);
  const feeds = () => ({ pixels: { type: 'float32' as const, dims: [rows, 784], data: data.slice() } });
  /** rows/s over the measured part; the process's CPU µs per call over every call, warm-up included. */
  const measure = async (concurrency: number, call: () => Promise<unknown>) => {
    let calls = 0;
    const cpu0 = process.cpuUsage();
    const result = await closedLoop({ concurrency, seconds, warmupSeconds: 1, call: () => call().then(() => (calls++, rows)) });
    const cpu = process.cpuUsage(cpu0);
    return { rate: result.items / result.seconds, cpuUs: (cpu.user + cpu.system) / calls };
  };
  try {
    // Two in flight, as the batcher keeps a full batch queued behind the running one.
    const limit = await measure(2, () => pool.run(feeds(), ['probs']));
    const batcher = new DynamicBatcher(pool, { label: 'digits/2', maxBatchSize: rows, maxQueueDelayMs: 0, preferredBatchSizes: [], maxQueueSize: 0, defaultTimeoutMs: 0 }, systemClock);
    const batched = await measure(4, () => batcher.submit({ feeds: feeds(), rows, outputNames: ['probs'] }));
    return { limit: limit.rate, limitCpuUs: limit.cpuUs, batcher: batched.rate, batcherCpuUs: batched.cpuUs };
  } finally {
    await pool.close();
  }
}

async function successes(httpPort: number): Promise<number> {
  // Once more if the agent closed the kept-alive connection as fetch reused it (idle during a run).
  const scrape = () => fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
  const text = await scrape().catch(scrape);
  return Number(/inferscope_inference_requests_total\{model="digits",version="2",outcome="success"\} (\d+)/.exec(text)?.[1] ?? 0);
}

async function main(): Promise<void> {
  console.log(`${rounds} rounds of ${seconds} s; REST: wrk -t1 -c${connections}; gRPC: h2load, ${connections} calls in flight on one connection; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  const agent = await startChild([join(root, 'dist', 'agent', 'main.js'), '--port', '0', '--grpc-port', '0', '--log-level', 'warn']);
  const url = `http://127.0.0.1:${agent.port}/v2/models/digits/versions/2/infer`;
  const grpcUrl = `http://127.0.0.1:${agent.grpcPort}/inference.GRPCInferenceService/ModelInfer`;
  await waitReady(`http://127.0.0.1:${agent.port}/v2/health/ready`);
  const one = grpcBody(1);
  const sixtyFour = grpcBody(64);
  const binary64 = restBinary(64);
  wrk(url, jsonScript, 2, connections);
  h2load(work, grpcUrl, one, 2, connections);
  // The floor: a bare node:http2 server answering the 64-row message with the agent's answer size.
  const bare = await startChild([join(root, 'bench', 'lib', 'bareGrpcServer.mjs'), '2600']);
  const bareUrl = `http://127.0.0.1:${bare.grpcPort}/inference.GRPCInferenceService/ModelInfer`;
  // A failed run (process.exit below) leaves no server behind.
  process.once('exit', () => {
    agent.proc.kill();
    bare.proc.kill();
  });
  h2load(work, bareUrl, sixtyFour, 2, 4);
  type Run = (WrkResult | H2Result) & { cpuUs: number; loadUs?: number };
  const results: Record<'json' | 'binary' | 'grpc' | 'binary64' | 'grpc64' | 'bare64', Run[]> = { json: [], binary: [], grpc: [], binary64: [], grpc64: [], bare64: [] };
  /** One load run, with the server's CPU µs per call over it (and h2load's, for gRPC). */
  const measured = (load: () => WrkResult | H2Result, pid = agent.proc.pid!): Run => {
    const cpu0 = cpuSeconds(pid);
    const r = load();
    const calls = r.rps * seconds;
    return { ...r, cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / calls, ...('cpuS' in r ? { loadUs: (r.cpuS * 1e6) / calls } : {}) };
  };
  let grpcCalls = 0;
  let grpcOk = 0;
  for (let r = 0; r < rounds; r++) {
    results.json.push(measured(() => wrk(url, jsonScript, seconds, connections)));
    results.binary.push(measured(() => wrk(url, binaryScript, seconds, connections)));
    const before = await successes(agent.port);
    const g = measured(() => h2load(work, grpcUrl, one, seconds, connections));
    const g64 = measured(() => h2load(work, grpcUrl, sixtyFour, seconds, 4));
    grpcOk += (await successes(agent.port)) - before;
    grpcCalls += (g as H2Result).calls + (g64 as H2Result).calls;
    results.grpc.push(g);
    results.grpc64.push(g64);
    results.binary64.push(measured(() => wrk(url, binary64, seconds, 4)));
    const b64 = measured(() => h2load(work, bareUrl, sixtyFour, seconds, 4), bare.proc.pid!);
    results.bare64.push(b64);
    console.log(`round ${r + 1}: REST JSON ${results.json[r]!.rps.toFixed(0)}, REST binary ${results.binary[r]!.rps.toFixed(0)}, gRPC ${g.rps.toFixed(0)} req/s; 64 rows: gRPC ${(g64.rps * 64).toFixed(0)}, REST binary ${(results.binary64[r]!.rps * 64).toFixed(0)}, bare node:http2 ${(b64.rps * 64).toFixed(0)} rows/s; µs/call gRPC ${g64.cpuUs.toFixed(0)}, bare ${b64.cpuUs.toFixed(0)}, h2load ${g64.loadUs!.toFixed(0)}`);
  }
  await stop(agent.proc);
  await stop(bare.proc);
  const local = await inProcess(64);

  const pick = (k: keyof typeof results, scale = 1) => {
    const rs = results[k];
    const loads = rs.flatMap((x) => (x.loadUs === undefined ? [] : [x.loadUs]));
    return {
      value: median(rs.map((x) => x.rps)) * scale,
      p50ms: median(rs.map((x) => x.p50ms)),
      p99ms: median(rs.map((x) => x.p99ms)),
      cpuUs: median(rs.map((x) => x.cpuUs)),
      ...(loads.length ? { loadUs: median(loads) } : {}),
      errors: rs.reduce((n, x) => n + x.errors, 0),
    };
  };
  const [json, binary, grpc, binaryRows, grpcRows, bareRows] = [pick('json'), pick('binary'), pick('grpc'), pick('binary64', 64), pick('grpc64', 64), pick('bare64', 64)];
  const row = (name: string, r: { value: number; p50ms: number; p99ms: number; cpuUs: number; loadUs?: number; errors: number }, unit: string) =>
    `${name.padEnd(38)}${r.value.toFixed(0).padStart(9)} ${unit.padEnd(7)}${r.p50ms.toFixed(2).padStart(9)}${r.p99ms.toFixed(2).padStart(9)}${r.cpuUs.toFixed(0).padStart(14)}${(r.loadUs === undefined ? '' : r.loadUs.toFixed(0)).padStart(12)}${String(r.errors).padStart(8)}`;
  const local64 = (name: string, rate: number, cpuUs: number) => `${name.padEnd(38)}${rate.toFixed(0).padStart(9)} rows/s ${''.padStart(17)}${cpuUs.toFixed(0).padStart(14)}`;
  console.log(`\n${'target (median of rounds)'.padEnd(38)}${'rate'.padStart(9)} ${''.padEnd(7)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'server µs/call'.padStart(15)}${'h2load µs'.padStart(11)}  errors`);
  console.log(row('REST JSON, 1 digit', json, 'req/s'));
  console.log(row('REST binary, 1 digit', binary, 'req/s'));
  console.log(row('gRPC raw, 1 digit', grpc, 'req/s'));
  console.log(row('REST binary, 64 rows, 4 at a time', binaryRows, 'rows/s'));
  console.log(row('gRPC raw, 64 rows, 4 at a time', grpcRows, 'rows/s'));
  console.log(row('bare node:http2, 64 rows (floor)', bareRows, 'rows/s'));
  console.log(local64('in process, 64 rows back to back', local.limit, local.limitCpuUs));
  console.log(local64('in process, batcher, 64 rows × 4', local.batcher, local.batcherCpuUs));
  console.log(`\ngRPC successes counted by the agent: ${grpcOk}, calls h2load logged: ${grpcCalls} (calls still in flight when h2load stops are answered but not logged; goal: no fewer successes than calls)`);
  console.log(`gRPC / REST JSON:          ${(grpc.value / json.value).toFixed(2)}  (goal ≥ 1.50)`);
  console.log(`gRPC / REST binary:        ${(grpc.value / binary.value).toFixed(2)}`);
  console.log(`agent CPU per call, gRPC / REST JSON: ${(grpc.cpuUs / json.cpuUs).toFixed(2)}; gRPC / REST binary: ${(grpc.cpuUs / binary.cpuUs).toFixed(2)}`);
  console.log(`gRPC 64 rows / in process: ${(grpcRows.value / local.limit).toFixed(2)} of back to back, ${(grpcRows.value / local.batcher).toFixed(2)} of the batcher (goal ≥ 0.80); REST binary 64 rows: ${(binaryRows.value / local.limit).toFixed(2)}, ${(binaryRows.value / local.batcher).toFixed(2)}`);
  console.log(`bare node:http2 64 rows / in process: ${(bareRows.value / local.limit).toFixed(2)} of back to back (a server that does nothing, with the model's time not spent)`);
  // Two cores shared by the server and h2load: the most calls/s any Node server could answer is
  // 2 s of CPU a second over (the floor's CPU per call + the model's + h2load's).
  const cores = cpus().length;
  const perCall = bareRows.cpuUs + local.limitCpuUs + (grpcRows.loadUs ?? 0);
  console.log(`ceiling on ${cores} cores: ${cores} × 1e6 / (bare ${bareRows.cpuUs.toFixed(0)} + in-process ${local.limitCpuUs.toFixed(0)} + h2load ${(grpcRows.loadUs ?? 0).toFixed(0)} µs/call) × 64 = ${((cores * 1e6 * 64) / perCall).toFixed(0)} rows/s = ${((cores * 1e6 * 64) / perCall / local.limit).toFixed(2)} of back to back`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
