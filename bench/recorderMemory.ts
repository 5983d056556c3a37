// npm run bench:records — the heap the request recorder holds at its defaults: 20,000 requests of
// one row each (every phase marked, a client id), in batches of 16, through a recorder that keeps
// the last 10,000 requests (and 10,000 batches). Run with --expose-gc (the npm script does).
import { RequestRecorder } from '../agent/src/tracing/requestRecorder.js';
import { RequestTrace } from '../agent/src/tracing/requestTrace.js';
const gc = (globalThis as { gc?: () => void }).gc!;
gc(); const before = process.memoryUsage().heapUsed;
const rec = new RequestRecorder();
for (let i = 0; i < 20_000; i++) {
  const t = new RequestTrace('rest', 'digits', '2');
  for (const p of ['body_read_ms', 'parsed_ms', 'admitted_ms', 'enqueued_ms', 'dispatched_ms', 'compute_start_ms', 'compute_end_ms'] as const) t.mark(p);
  t.rows = 1; t.breaker = 'closed'; t.batchId = `b${i >> 4}`; t.clientId = `client-${i}`;
  rec.addRequest(t.finish(200));
  if (i % 16 === 0) rec.addBatch({ id: `b${i >> 4}`, model: 'digits', version: '2', rows: 16, request_ids: Array.from({ length: 16 }, (_, k) => `r${i + k}`), reason: 'instance_idle', queue_depth: 3, dispatched_at: Date.now(), compute_ms: 1.2, ok: true });
}
gc(); const after = process.memoryUsage().heapUsed;
console.log(rec.stats(), 'heap MB', ((after - before) / 2 ** 20).toFixed(1), 'bytes/request', Math.round((after - before) / rec.stats().requests));
