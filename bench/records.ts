// npm run bench:records — what the request records cost, measured without HTTP noise:
//   1. time: a request's whole record path (a RequestTrace, its phase marks, finish, the recorder,
//      the event-stream sample), per request, in this process; compare it with the agent's CPU
//      time per request (bench:grpc prints it: ~130 µs REST binary, ~230 µs REST JSON here);
//   2. memory: the heap a recorder holds at its defaults (10,000 requests of one row in batches of
//      16, their batches), after a full collection.
// Run with --expose-gc (the npm script does).
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
