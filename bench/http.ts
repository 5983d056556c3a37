// npm run bench:http — the front door against this machine's HTTP limit, with the load from a
// separate process (wrk, Debian's package: one thread, 64 connections), every figure a ratio in
// the same run:
//   - limit: a plain node:http server that reads the body, JSON.parse-s it and answers a fixed
//     10-float result (bench/lib/plainLimitServer.ts): what no inference server can beat;
//   - the agent, digits/2, JSON (models/digits/examples/digit-7.json, 4,346 bytes);
//   - the agent, digits/2, binary (tritonclient's default request: a 144-byte JSON header and the
//     digit as 3,136 raw bytes, binary output).
//   - with --records-off / --export: the same build with request records off, or exporting every
//     request over OTLP (see the options below), in the same rounds as the default agent.
// Rounds alternate the targets so that a noisy neighbour hurts them alike; the median round counts.
// Goals (issue 14): JSON ≥ 0.6 × limit; binary ≥ 1.5 × the agent's JSON; zero errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSeconds } from './lib/procCpu.js';
import { median, requireWrk, rssMiB, startChild, stop, waitReady, wrk as runWrk, wrkScript, type WrkResult } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    // Another build's dist/agent/main.js (e.g. from `git worktree add ../before <commit>`), measured
    // on JSON in the same rounds: "no worse than before" in one run.
    compare: { type: 'string' },
    // The same build with request records off (record_requests 0): what recording costs.
    'records-off': { type: 'boolean', default: false },
    // The same build exporting every request (trace_rate 1) over OTLP/HTTP to a receiver in its
    // own process (bench/lib/otlpSink.ts), phases as span events, or as child spans with
    // --export-phases spans: what the export costs against the agent without it.
    export: { type: 'boolean', default: false },
    'export-phases': { type: 'string', default: 'events' },
  },
});
const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'inferscope-bench-http-'));

requireWrk('bench:http');
const wrk = (url: string, script: string, seconds: number) => runWrk(url, script, seconds, Number(values.connections));
/** The agent's CPU µs per answered request (all its threads) in each measured run, by target: what a busy neighbour blurs far less than the rate. */
const cpuPerRequest: Record<string, number[]> = {};
function wrkCpu(target: string, pid: number, url: string, script: string, seconds: number): WrkResult {
  const before = cpuSeconds(pid);
  const r = wrk(url, script, seconds);
  (cpuPerRequest[target] ??= []).push(((cpuSeconds(pid) - before) * 1e6) / (r.rps * seconds));
  return r;
}

// ---- request bodies and the wrk scripts that send them ----
const jsonBody = readFileSync(join(root, 'models', 'digits', 'examples', 'digit-7.json'));
const pixels = (JSON.parse(jsonBody.toString()) as { inputs: { data: number[] }[] }).inputs[0]!.data;
const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
const binaryBody = Buffer.concat([Buffer.from(header), Buffer.from(Float32Array.from(pixels).buffer)]);

const jsonScript = wrkScript(work, 'json', jsonBody, { 'Content-Type': 'application/json' });
const binaryScript = wrkScript(work, 'binary', binaryBody, { 'Inference-Header-Content-Length': String(header.length) });

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  console.log(
    `wrk -t1 -c${values.connections} -d${seconds}s, ${rounds} rounds; JSON body ${jsonBody.length} bytes, binary body ${binaryBody.length} bytes; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`,
  );
  const agent = await startChild([join(root, 'dist', 'agent', 'main.js'), '--port', '0', '--grpc-port', '0', '--log-level', 'warn']);
  const agentUrl = `http://127.0.0.1:${agent.port}/v2/models/digits/versions/2/infer`;
  await waitReady(`http://127.0.0.1:${agent.port}/v2/health/ready`);
  // Warm-up: the JIT, the batcher's shapes, the worker.
  wrk(agentUrl, jsonScript, 3);
  wrk(agentUrl, binaryScript, 2);

  const results: Record<'limit' | 'json' | 'binary' | 'before' | 'offJson' | 'offBinary' | 'exportJson' | 'exportBinary', WrkResult[]> = {
    limit: [],
    json: [],
    binary: [],
    before: [],
    offJson: [],
    offBinary: [],
    exportJson: [],
    exportBinary: [],
  };
  const offConfig = join(work, 'records-off.json');
  writeFileSync(offConfig, JSON.stringify({ record_requests: 0, record_failures: 0 }));
  const exportConfig = join(work, 'export.json');
  writeFileSync(exportConfig, JSON.stringify({ otlp_phases: values['export-phases'] }));
  // The exporting agent lives through all rounds, warmed up as the default one is: both equally
  // hot (an agent started for each round would pay its JIT warm-up in the figures).
  const sink = values.export ? await startChild(['--import', 'tsx', join(root, 'bench', 'lib', 'otlpSink.ts')]) : undefined;
  const on = sink
    ? await startChild([join(root, 'dist', 'agent', 'main.js'), '--config', exportConfig, '--otlp-endpoint', `http://127.0.0.1:${sink.port}`, '--port', '0', '--grpc-port', 'off', '--log-level', 'warn'])
    : undefined;
  const onUrl = on ? `http://127.0.0.1:${on.port}/v2/models/digits/versions/2/infer` : '';
  if (on) {
    await waitReady(`http://127.0.0.1:${on.port}/v2/health/ready`);
    wrk(onUrl, jsonScript, 3);
    wrk(onUrl, binaryScript, 2);
  }
  let exported = 0;
  for (let r = 0; r < rounds; r++) {
    if (on) {
      results.exportJson.push(wrkCpu('exportJson', on.proc.pid!, onUrl, jsonScript, seconds));
      results.exportBinary.push(wrkCpu('exportBinary', on.proc.pid!, onUrl, binaryScript, seconds));
    }
    if (values['records-off']) {
      const off = await startChild([join(root, 'dist', 'agent', 'main.js'), '--config', offConfig, '--port', '0', '--grpc-port', 'off', '--log-level', 'warn']);
      const offUrl = `http://127.0.0.1:${off.port}/v2/models/digits/versions/2/infer`;
      await waitReady(`http://127.0.0.1:${off.port}/v2/health/ready`);
      wrk(offUrl, jsonScript, 3);
      results.offJson.push(wrk(offUrl, jsonScript, seconds));
      results.offBinary.push(wrk(offUrl, binaryScript, seconds));
      await stop(off.proc);
    }
    if (values.compare) {
      const before = await startChild([resolve(values.compare), '--port', '0', '--log-level', 'warn']);
      const beforeUrl = `http://127.0.0.1:${before.port}/v2/models/digits/versions/2/infer`;
      await waitReady(`http://127.0.0.1:${before.port}/v2/health/ready`);
      wrk(beforeUrl, jsonScript, 3);
      results.before.push(wrk(beforeUrl, jsonScript, seconds));
      await stop(before.proc);
    }
    const limit = await startChild(['--import', 'tsx', join(root, 'bench', 'lib', 'plainLimitServer.ts')]);
    const limitUrl = `http://127.0.0.1:${limit.port}/v2/models/digits/versions/2/infer`;
    wrk(limitUrl, jsonScript, 2);
    results.limit.push(wrk(limitUrl, jsonScript, seconds));
    await stop(limit.proc);
    results.json.push(wrkCpu('json', agent.proc.pid!, agentUrl, jsonScript, seconds));
    results.binary.push(wrkCpu('binary', agent.proc.pid!, agentUrl, binaryScript, seconds));
    console.log(`round ${r + 1}: limit ${results.limit[r]!.rps.toFixed(0)}, JSON ${results.json[r]!.rps.toFixed(0)}, binary ${results.binary[r]!.rps.toFixed(0)} req/s`);
  }
  const memory = rssMiB(agent.proc.pid!);
  await stop(agent.proc);
  if (on && sink) {
    await stop(on.proc);
    exported = ((await (await fetch(`http://127.0.0.1:${sink.port}/count`)).json()) as { bytes: number }).bytes;
    await stop(sink.proc);
  }

  const pick = (k: keyof typeof results) => {
    const rs = results[k];
    return { rps: median(rs.map((x) => x.rps)), p50ms: median(rs.map((x) => x.p50ms)), p99ms: median(rs.map((x) => x.p99ms)), errors: rs.reduce((n, x) => n + x.errors, 0) };
  };
  const [limit, json, binary] = [pick('limit'), pick('json'), pick('binary')];
  const row = (name: string, r: WrkResult) =>
    `${name.padEnd(44)}${r.rps.toFixed(0).padStart(9)}${r.p50ms.toFixed(2).padStart(9)}${r.p99ms.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}`;
  console.log(`\n${'target (median of rounds)'.padEnd(44)}    req/s   p50 ms   p99 ms  errors`);
  console.log(row('plain node:http + JSON.parse (the limit)', limit));
  console.log(row('agent, digits/2, JSON', json));
  console.log(row('agent, digits/2, binary (tritonclient default)', binary));
  if (values.compare) console.log(row(`before (${values.compare}), JSON`, pick('before')));
  if (values['records-off']) {
    console.log(row('agent, records off, JSON', pick('offJson')));
    console.log(row('agent, records off, binary', pick('offBinary')));
  }
  if (values.export) {
    console.log(row(`agent, OTLP export (${values['export-phases']}), JSON`, pick('exportJson')));
    console.log(row(`agent, OTLP export (${values['export-phases']}), binary`, pick('exportBinary')));
  }
  console.log(`\nagent RSS after the runs: ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB)`);
  const jsonRatio = json.rps / limit.rps;
  const binaryRatio = binary.rps / json.rps;
  console.log(`JSON infer / limit:   ${jsonRatio.toFixed(2)}  (goal ≥ 0.60)`);
  console.log(`binary / JSON infer:  ${binaryRatio.toFixed(2)}  (goal ≥ 1.50)`);
  console.log(`binary / limit:       ${(binary.rps / limit.rps).toFixed(2)}`);
  if (values.compare) {
    const before = pick('before');
    console.log(`JSON infer / before:  ${(json.rps / before.rps).toFixed(2)}; p99 ${json.p99ms.toFixed(1)} ms vs ${before.p99ms.toFixed(1)} ms before`);
  }
  if (values['records-off']) {
    const cost = (on: number, off: number) => `${(((off - on) / off) * 100).toFixed(1)} %`;
    console.log(`request records cost: JSON ${cost(json.rps, pick('offJson').rps)}, binary ${cost(binary.rps, pick('offBinary').rps)} of throughput  (goal ≤ 3 %)`);
  }
  if (values.export) {
    const cost = (on: number, off: number) => `${(((off - on) / off) * 100).toFixed(1)} %`;
    console.log(`OTLP export at trace_rate 1 costs: JSON ${cost(pick('exportJson').rps, json.rps)}, binary ${cost(pick('exportBinary').rps, binary.rps)} of throughput  (goal ≤ 10 %); the receiver got ${(exported / 2 ** 20).toFixed(0)} MiB`);
    const cpu = (k: string) => median(cpuPerRequest[k]!);
    const more = (on: string, off: string) => `${cpu(on).toFixed(0)} vs ${cpu(off).toFixed(0)} µs (+${(((cpu(on) - cpu(off)) / cpu(off)) * 100).toFixed(1)} %)`;
    console.log(`agent CPU per request, export on vs off (medians): JSON ${more('exportJson', 'json')}, binary ${more('exportBinary', 'binary')}`);
    console.log(`  per round (export on / off): JSON ${results.exportJson.map((x, i) => (x.rps / results.json[i]!.rps).toFixed(2)).join(', ')}; binary ${results.exportBinary.map((x, i) => (x.rps / results.binary[i]!.rps).toFixed(2)).join(', ')}`);
  }
  console.log(`errors: ${json.errors + binary.errors}  (goal 0)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
