// npm run bench:records — what the request records cost, measured without HTTP noise:
//   1. time: a request's whole record path (a RequestTrace, its phase marks, finish, the recorder,
//      the event-stream sample), per request, in this process; compare it with the agent's CPU
//      time per request (bench:grpc prints it: ~130 µs REST binary, ~230 µs REST JSON here);
//   2. memory: the heap a recorder holds at its defaults (10,000 requests of one row in batches of
//      16, their batches), after a full collection;
//   3. OpenTelemetry export at trace_rate 1 (every request), per request: the agent's CPU (this
//      process's user + system time: building the spans, the BatchSpanProcessor, the protobuf
//      serialisation and the HTTP sends) with the real exporter sending to a receiver in another
//      process (bench/lib/otlpSink.ts), minus the same path without export; for each way of
//      exporting the phases (`otlp_phases`: child spans or span events); and as the agent runs it,
//      on its export thread (exportThread.ts, events): then the main thread's share is what counts
//      (the time spent in the record calls, which sample and hand over), beside the process's CPU.
// Run with --expose-gc, after a build (the export thread is dist/agent/exportWorker.js; the npm
// script does both).
import { join } from 'node:path';
import { OtlpExport, type PhaseExport } from '../agent/src/tracing/otelExport.js';
import { ExportThread } from '../agent/src/tracing/exportThread.js';
import { FinishedSpan, hrTime, newTraceId } from '../agent/src/tracing/finishedSpan.js';
import { SpanKind } from '@opentelemetry/api';
import { defaultResource } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TraceSettings } from '../agent/src/tracing/traceSettings.js';
import { startChild, stop } from './lib/wrk.js';
import { RequestLog } from '../agent/src/tracing/requestLog.js';
import { RequestRecorder } from '../agent/src/tracing/requestRecorder.js';
import { RequestTrace } from '../agent/src/tracing/requestTrace.js';
import type { BatchEvent } from '../agent/src/batching/dynamicBatcher.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:records)');
const PHASES = ['body_read_ms', 'parsed_ms', 'admitted_ms', 'enqueued_ms', 'dispatched_ms', 'compute_start_ms', 'compute_end_ms'] as const;

/** One request's record path, as the REST door and the inference path run it. */
function onePath(log: RequestLog, i: number): void {
  const t = new RequestTrace('rest', 'digits', '2');
  for (const p of PHASES) t.mark(p);
  t.rows = 1;
  t.breaker = 'closed';
  t.batchId = `b${i >> 4}`;
  t.clientId = `client-${i}`;
  log.record(t.finish(200));
  if ((i & 15) === 15) {
    const e = { id: `b${i >> 4}`, reason: 'instance_idle', queueDepth: 3, requestIds: Array.from({ length: 16 }, (_, k) => `r${i - k}`), dispatchedAt: performance.now(), rows: 16, requests: 16, inputS: 1e-5, inferS: 1e-3, outputS: 1e-5, computeS: 1e-3, ok: true } satisfies BatchEvent;
    log.batch('digits', '2', e);
  }
}

let sink = 0;
const log = new RequestLog(new RequestRecorder(), () => sink++);
for (let i = 0; i < 50_000; i++) onePath(log, i); // warm the JIT and fill the rings
const runs: number[] = [];
for (let r = 0; r < 5; r++) {
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) onePath(log, i);
  runs.push(((performance.now() - t0) * 1000) / n);
}
runs.sort((a, b) => a - b);
console.log(`record path per request: ${runs[2]!.toFixed(2)} µs (median of 5 runs of 200,000; min ${runs[0]!.toFixed(2)}, max ${runs[4]!.toFixed(2)})`);

gc();
const before = process.memoryUsage().heapUsed;
const fresh = new RequestLog(new RequestRecorder(), () => sink++);
for (let i = 0; i < 20_000; i++) onePath(fresh, i);
gc();
const after = process.memoryUsage().heapUsed;
const held = fresh.recorder.stats();
console.log(`held at the defaults: ${held.requests} requests, ${held.batches} batches (of 16): heap ${((after - before) / 2 ** 20).toFixed(1)} MiB, ${Math.round((after - before) / held.requests)} bytes per request`);

/** 16 requests of one batch, as the agent sees them: the batch event first (it ends before its requests). */
function oneBatch(log: RequestLog, b: number): void {
  const traces = Array.from({ length: 16 }, () => new RequestTrace('rest', 'digits', '2'));
  for (const t of traces) {
    for (const p of PHASES) t.mark(p);
    t.rows = 1;
    t.breaker = 'closed';
    t.batchId = `x${b}`;
  }
  log.batch('digits', '2', { id: `x${b}`, reason: 'instance_idle', queueDepth: 3, requestIds: traces.map((t) => t.id), dispatchedAt: performance.now(), rows: 16, requests: 16, inputS: 1e-5, inferS: 1e-3, outputS: 1e-5, computeS: 1e-3, ok: true });
  for (const t of traces) log.record(t.finish(200), t);
}

/**
 * Per request of `requests` requests, in rounds of 256 each flushed (the processor's queue never
 * overflows): the process's CPU µs, and the µs the main thread spent in the record calls.
 */
async function cpuPerRequest(log: RequestLog, exporter: OtlpExport | ExportThread | undefined, requests: number): Promise<{ cpu: number; main: number }> {
  const t0 = process.cpuUsage();
  let main = 0;
  for (let b = 0; b < requests / 16; b++) {
    const m0 = performance.now();
    oneBatch(log, b);
    main += performance.now() - m0;
    if (exporter && (b & 15) === 15) await exporter.flush();
  }
  if (exporter) await exporter.flush();
  const used = process.cpuUsage(t0);
  return { cpu: (used.user + used.system) / requests, main: (main * 1000) / requests };
}

async function exportCost(): Promise<void> {
  const receiver = await startChild(['--import', 'tsx', join(__dirname, 'lib', 'otlpSink.ts')]);
  try {
    const modes: (PhaseExport | 'off' | 'thread')[] = ['off', 'spans', 'events', 'thread'];
    const logs = new Map<string, { log: RequestLog; exporter?: OtlpExport | ExportThread }>();
    const url = `http://127.0.0.1:${receiver.port}/v1/traces`;
    for (const mode of modes) {
      const log = new RequestLog(new RequestRecorder(), () => sink++);
      if (mode === 'off') {
        logs.set(mode, { log });
        continue;
      }
      const options = { url, serviceVersion: 'bench', settings: new TraceSettings(true), warn: (m: string) => console.error(m) };
      const exporter = mode === 'thread' ? new ExportThread(join(__dirname, '..', 'dist', 'agent', 'exportWorker.js'), { ...options, phases: 'events' }) : new OtlpExport({ ...options, phases: mode });
      log.exporter = exporter;
      logs.set(mode, { log, exporter });
    }
    for (const { log, exporter } of logs.values()) await cpuPerRequest(log, exporter, 8192); // warm-up
    const runs = new Map<string, { cpu: number; main: number }[]>(modes.map((m) => [m, []]));
    // Rounds alternate the modes, so a noisy neighbour hurts them alike.
    for (let r = 0; r < 7; r++) for (const mode of modes) runs.get(mode)!.push(await cpuPerRequest(logs.get(mode)!.log, logs.get(mode)!.exporter, 16_384));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const off = median(runs.get('off')!.map((x) => x.cpu));
    const offMain = median(runs.get('off')!.map((x) => x.main));
    console.log(`record path, CPU per request: ${off.toFixed(1)} µs (export off; ${offMain.toFixed(1)} µs of it in the record calls)`);
    for (const mode of modes.slice(1)) {
      const xs = runs.get(mode)!.map((x) => x.cpu);
      const on = median(xs);
      const main = median(runs.get(mode)!.map((x) => x.main));
      const label = mode === 'thread' ? 'on the export thread, events' : `in process, phases as ${mode}`;
      console.log(
        `export ${label.padEnd(30)}: ${on.toFixed(1)} µs CPU per request (${(on - off).toFixed(1)} more than off), main thread ${main.toFixed(1)} µs in the record calls (${(main - offMain).toFixed(1)} more) — median of 7 rounds of 16,384; CPU min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`,
      );
    }
    for (const { exporter } of logs.values()) await exporter?.shutdown();
  } finally {
    await stop(receiver.proc);
  }
}

/**
 * What the SDK's OTLP protobuf serialiser alone costs per request span (the export thread's largest
 * share): 512 spans shaped as the agent's (11 attributes, 7 phase events), serialised 50 times.
 */
function serialiserCost(): void {
  const resource = defaultResource();
  const scope = { name: 'inferscope', version: 'bench' };
  const now = Date.now();
  const spans = Array.from({ length: 512 }, (_, i) => {
    const attributes = { 'inferscope.request.id': `r${i}`, 'inferscope.protocol': 'rest', 'inferscope.model': 'digits', 'inferscope.outcome': 'success', 'inferscope.status': '200', 'inferscope.canary_routed': false, 'http.response.status_code': 200, 'inferscope.version': '2', 'inferscope.rows': 1, 'inferscope.batch.id': `b${i >> 4}`, 'inferscope.breaker.state': 'closed' };
    const events = PHASES.map((p, k) => ({ name: p.replace(/_ms$/, ''), time: hrTime(now + k * 0.1) }));
    return new FinishedSpan('infer digits', SpanKind.SERVER, resource, scope, newTraceId(), undefined, now, now + 1, () => attributes, () => events);
  });
  for (let w = 0; w < 20; w++) ProtobufTraceSerializer.serializeRequest(spans);
  const rounds = 50;
  let bytes = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) bytes += ProtobufTraceSerializer.serializeRequest(spans)!.length;
  const us = ((performance.now() - t0) * 1000) / (rounds * spans.length);
  console.log(`the SDK's OTLP protobuf serialiser alone: ${us.toFixed(1)} µs per request span (${Math.round(bytes / rounds / spans.length)} bytes), ${rounds} × 512 spans`);
}

exportCost()
  .then(serialiserCost)
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
