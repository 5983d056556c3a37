// The request records (agent/src/tracing): a trace's phases, the recorder's bounds (ring, failures,
// each minute's slowest, pruned after the hour), queries, and the event stream's sampling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent, RequestRecord } from '../../common/api.js';
import { RequestLog } from '../../agent/src/tracing/requestLog.js';
import { RequestRecorder } from '../../agent/src/tracing/requestRecorder.js';
import { RequestTrace } from '../../agent/src/tracing/requestTrace.js';

function record(n: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return { id: `r${n}`, protocol: 'rest', model: 'm', version: '1', canary_routed: false, received_at: 1_000_000 + n, duration_ms: 1, phases: {}, outcome: 'success', status: 200, ...over };
}

test('a trace: phases as offsets from when it was received, in order; duration is the last; failures keep outcome and message', () => {
  let t = 100;
  const trace = new RequestTrace('rest', 'digits', undefined, () => t);
  t = 100.5;
  trace.mark('body_read_ms');
  t = 101.25;
  trace.mark('parsed_ms');
  trace.mark('dispatched_ms', 103);
  trace.mark('compute_start_ms', 103.1);
  trace.mark('compute_end_ms', 104);
  t = 104.75;
  trace.version = '2';
  trace.clientId = 'abc';
  const r = trace.finish(200);
  assert.deepEqual(r.phases, { body_read_ms: 0.5, parsed_ms: 1.25, dispatched_ms: 3, compute_start_ms: 3.1, compute_end_ms: 4, responded_ms: 4.75 });
  assert.equal(r.duration_ms, 4.75);
  const ends = Object.values(r.phases);
  assert.deepEqual([...ends].sort((a, b) => a - b), ends, 'phases end in order');
  assert.ok(Math.abs(ends.at(-1)! - r.duration_ms) < 1, 'the phases account for the whole request within 1 ms');
  assert.equal(r.client_id, 'abc');
  assert.match(r.id, /^r[0-9a-z]+$/);
  const failed = new RequestTrace('grpc', 'digits', '1', () => 0);
  failed.failed('breaker_open', 'the circuit breaker of digits/1 is open');
  assert.deepEqual([failed.finish('UNAVAILABLE').outcome, failed.finish('UNAVAILABLE').status], ['breaker_open', 'UNAVAILABLE']);
  assert.notEqual(failed.id, trace.id);
});

test('the ring keeps the last N; failures outlive it; each version\'s slowest per minute outlives both for the hour', () => {
  let now = 1_000_000;
  const rec = new RequestRecorder({ requests: 3, failures: 2, batches: 2, slowestMinutes: 60 }, () => now);
  rec.addRequest(record(1, { duration_ms: 900 })); // the slowest of its minute
  rec.addRequest(record(2, { outcome: 'model_error', status: 500 }));
  for (let n = 3; n <= 8; n++) rec.addRequest(record(n));
  assert.deepEqual(rec.stats(), { requests: 3, failures: 1, slowest: 1, batches: 0 });
  assert.deepEqual(rec.query({}).map((r) => r.id), ['r8', 'r7', 'r6', 'r2', 'r1'], 'newest first; the failure and the slow one held besides');
  assert.equal(rec.request('r2')?.outcome, 'model_error');
  assert.equal(rec.request('r1')?.duration_ms, 900);
  assert.equal(rec.request('r4'), undefined, 'gone with the ring');
  // Two more failures: the failure ring holds the last 2.
  rec.addRequest(record(9, { outcome: 'invalid_input' }));
  rec.addRequest(record(10, { outcome: 'invalid_input' }));
  assert.equal(rec.stats().failures, 2);
  // An hour later, the minute's slowest is pruned at the next record of its version.
  now += 61 * 60_000;
  rec.addRequest(record(11, { received_at: now }));
  assert.equal(rec.request('r1'), undefined);
});

test('queries filter by model, version, outcome, duration and time; a client id finds the newest such request', () => {
  const rec = new RequestRecorder({ requests: 100, failures: 10, batches: 10, slowestMinutes: 60 }, () => 1_000_000);
  rec.addRequest(record(1, { version: '1', duration_ms: 5, client_id: 'same' }));
  rec.addRequest(record(2, { version: '2', duration_ms: 50, client_id: 'same' }));
  rec.addRequest(record(3, { model: 'other', duration_ms: 500, outcome: 'timeout' }));
  assert.deepEqual(rec.query({ version: '2' }).map((r) => r.id), ['r2']);
  assert.deepEqual(rec.query({ model: 'm', minMs: 10 }).map((r) => r.id), ['r2']);
  assert.deepEqual(rec.query({ outcome: 'timeout' }).map((r) => r.id), ['r3']);
  assert.deepEqual(rec.query({ since: 1_000_002 }).map((r) => r.id), ['r3', 'r2']);
  assert.deepEqual(rec.query({ limit: 1 }).map((r) => r.id), ['r3']);
  assert.equal(rec.request('same')?.id, 'r2');
  // A window [since, until): the second a chart's point stands for.
  assert.deepEqual(rec.query({ since: 1_000_001, until: 1_000_003 }).map((r) => r.id), ['r2', 'r1']);
  assert.deepEqual(rec.query({ until: 1_000_002 }).map((r) => r.id), ['r1']);
});

test('slowest first: the limit applies after sorting, so the slowest of every match are returned, not of the newest', () => {
  const rec = new RequestRecorder({ requests: 100, failures: 10, batches: 10, slowestMinutes: 60 }, () => 1_000_000);
  const durations = [7, 30, 2, 30, 90, 1, 12];
  durations.forEach((d, i) => rec.addRequest(record(i, { duration_ms: d })));
  assert.deepEqual(rec.query({ slowestFirst: true, limit: 3 }).map((r) => r.id), ['r4', 'r3', 'r1'], 'ties: the newer first');
  assert.deepEqual(rec.query({ slowestFirst: true, since: 1_000_005 }).map((r) => r.duration_ms), [12, 1]);
  assert.deepEqual(rec.query({ limit: 3 }).map((r) => r.id), ['r6', 'r5', 'r4'], 'without it: newest first');
});

test('a batch lists its requests that are still held, in batch order; the batch ring is bounded', () => {
  const rec = new RequestRecorder({ requests: 10, failures: 1, batches: 2, slowestMinutes: 0 }, () => 0);
  for (const n of [1, 2, 3]) rec.addRequest(record(n));
  const batch = (id: string, ids: string[]) => ({ id, model: 'm', version: '1', rows: ids.length, request_ids: ids, reason: 'instance_idle' as const, queue_depth: 0, dispatched_at: 0, compute_ms: 1, ok: true });
  rec.addBatch(batch('b1', ['r3', 'r1', 'r99']));
  assert.deepEqual(rec.requestsOf(rec.batch('b1')!).map((r) => r.id), ['r3', 'r1']);
  rec.addBatch(batch('b2', []));
  rec.addBatch(batch('b3', []));
  assert.equal(rec.batch('b1'), undefined);
  assert.equal(rec.batch('b3')?.id, 'b3');
});

test('the event stream gets every failure and at most 50 successes a second', () => {
  let now = 10_000;
  const events: AgentEvent[] = [];
  const log = new RequestLog(new RequestRecorder(undefined, () => now), (e) => events.push(e), 50, () => now);
  for (let n = 0; n < 120; n++) log.record(record(n, n % 10 === 0 ? { outcome: 'model_error' } : {}));
  const sent = events.map((e) => (e as { request: RequestRecord }).request);
  assert.equal(sent.filter((r) => r.outcome !== 'success').length, 12, 'all failures');
  assert.equal(sent.filter((r) => r.outcome === 'success').length, 50);
  now += 1000;
  log.record(record(500));
  assert.equal(events.length, 63, 'a new second, a new allowance');
  assert.equal(log.recorder.stats().requests, 121, 'the recorder keeps them all');
});
