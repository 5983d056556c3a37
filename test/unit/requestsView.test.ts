// The Requests view and the request waterfall, pure parts (extension/src/requestsView): rows,
// filter, sort and the slow mark; phases as bars on a common axis, batch-mates, the release
// reason in words; and the waterfall page's CSP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchRecord, ModelStatus, RequestRecord } from '../../common/api.js';
import { filterChoices, filterDescription, MAX_ROWS, requestRows, requestsQuery, slowThresholdMs } from '../../extension/src/requestsView/requestRows.js';
import { formatMs, phaseSegments, placeText, releaseText, tickStep, waterfallModel, type BatchWithRequests } from '../../extension/src/requestsView/waterfallModel.js';
import { panelHtml } from '../../extension/src/views/panelHtml.js';

function record(n: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return { id: `r${n}`, protocol: 'rest', model: 'digits', version: '1', canary_routed: false, received_at: 1_000_000 + n, duration_ms: 1, phases: { responded_ms: 1 }, outcome: 'success', status: 200, ...over };
}

const fullPhases = { body_read_ms: 0.2, parsed_ms: 0.5, admitted_ms: 0.6, enqueued_ms: 0.7, dispatched_ms: 3.7, compute_start_ms: 3.8, compute_end_ms: 5.8, responded_ms: 6 };

test('rows: newest first, at most MAX_ROWS, each id once; model/version, duration and outcome shown', () => {
  const records = Array.from({ length: MAX_ROWS + 50 }, (_, i) => record(i));
  const rows = requestRows([...records, records[3]!], {}, 'time');
  assert.equal(rows.length, MAX_ROWS);
  assert.equal(rows[0]!.id, `r${MAX_ROWS + 49}`);
  assert.deepEqual(rows.map((r) => r.id), [...new Set(rows.map((r) => r.id))]);
  assert.equal(rows[0]!.label, 'digits/1');
  assert.match(rows[0]!.description, /^1\.00 ms · success · \d\d:\d\d:\d\d\.\d{3}$/);
  assert.deepEqual(rows[0]!.icon, { id: 'pass', color: 'testing.iconPassed' });
});

test('rows: sorted by duration, slowest first; filter by model, version, exact outcome and "failed"', () => {
  const records = [
    record(1, { duration_ms: 5 }),
    record(2, { duration_ms: 50, version: '2' }),
    record(3, { duration_ms: 9, outcome: 'breaker_open', status: 503, error: 'the circuit breaker of digits/1 is open' }),
    record(4, { duration_ms: 7, model: 'churn' }),
  ];
  assert.deepEqual(requestRows(records, {}, 'duration').map((r) => r.id), ['r2', 'r3', 'r4', 'r1']);
  assert.deepEqual(requestRows(records, { model: 'digits' }, 'time').map((r) => r.id), ['r3', 'r2', 'r1']);
  assert.deepEqual(requestRows(records, { model: 'digits', version: '2' }, 'time').map((r) => r.id), ['r2']);
  assert.deepEqual(requestRows(records, { outcome: 'failed' }, 'time').map((r) => r.id), ['r3']);
  assert.deepEqual(requestRows(records, { outcome: 'success' }, 'time').map((r) => r.id), ['r4', 'r2', 'r1']);
  const failed = requestRows(records, { outcome: 'failed' }, 'time')[0]!;
  assert.equal(failed.failed, true);
  assert.deepEqual(failed.icon, { id: 'error', color: 'errorForeground' });
  assert.match(failed.tooltip, /Error: the circuit breaker of digits\/1 is open/);
  // The agent filters model, version and exact outcomes; `failed` is filtered here, from more.
  assert.equal(requestsQuery({ model: 'digits', version: '2', outcome: 'success' }), 'model=digits&version=2&outcome=success&limit=200');
  assert.equal(requestsQuery({ outcome: 'failed' }), 'limit=2000');
  assert.equal(filterDescription({ model: 'digits', version: '2', outcome: 'failed' }, 'duration'), 'digits/2 · failed · slowest first');
  assert.equal(filterDescription({}, 'time'), '');
  // A second picked on the latency chart: the agent sorts that window's requests, slowest first.
  const second = { model: 'digits', version: '2', since: Date.UTC(2026, 11, 3, 12, 3, 4, 500), until: Date.UTC(2026, 11, 3, 12, 3, 5, 500) };
  assert.equal(requestsQuery(second), `model=digits&version=2&since=${second.since}&until=${second.until}&sort=duration&limit=200`);
  assert.equal(filterDescription(second, 'duration'), 'digits/2 · 12:03:04.5–12:03:05.5 · slowest first');
  const at = (ms: number) => ({ id: 'x', protocol: 'rest' as const, model: 'digits', version: '2', canary_routed: false, received_at: ms, duration_ms: 1, phases: {}, outcome: 'success', status: 200 });
  assert.deepEqual([second.since - 1, second.since, second.until - 1, second.until].map((ms) => requestRows([at(ms)], second, 'duration').length), [0, 1, 1, 0], 'the window is [since, until)');
});

test('slow: at or above the p99 of the shown ones and twice their median; nothing with few rows or an even spread', () => {
  const even = Array.from({ length: 100 }, (_, i) => record(i, { duration_ms: 10 + (i % 5) }));
  assert.equal(requestRows(even, {}, 'time').filter((r) => r.slow).length, 0, 'an even spread marks nothing');
  // 100 shown: the nearest-rank p99 is the 99th (80 ms); 40 ms is above twice the median but below it.
  const spiky = [...even.slice(0, 97), record(199, { duration_ms: 40 }), record(200, { duration_ms: 80 }), record(201, { duration_ms: 95 })];
  const rows = requestRows(spiky, {}, 'time');
  assert.equal(slowThresholdMs(spiky), 80);
  assert.deepEqual(rows.filter((r) => r.slow).map((r) => r.id).sort(), ['r200', 'r201']);
  const slow = rows.find((r) => r.id === 'r201')!;
  assert.deepEqual(slow.icon, { id: 'watch', color: 'editorWarning.foreground' });
  assert.match(slow.description, /· slow ·/);
  assert.equal(slowThresholdMs(spiky.slice(0, 19)), Infinity, 'fewer than 20: no p99');
  // A failure is marked failed, not slow, even when it is the slowest.
  const failedSlow = requestRows([...even.slice(0, 99), record(300, { duration_ms: 500, outcome: 'internal' })], {}, 'time').find((r) => r.id === 'r300')!;
  assert.equal(failedSlow.icon.id, 'error');
});

test('filter choices: clear, each model and version, failed, each outcome seen; choosing one keeps the other dimension', () => {
  const models = [{ name: 'digits', versions: [{ version: '1' }, { version: '2' }] }] as unknown as ModelStatus[];
  const choices = filterChoices({ outcome: 'failed' }, models, ['breaker_open', 'success']);
  assert.deepEqual(choices.map((c) => c.label), ['All requests', 'Model: digits', 'Version: digits/1', 'Version: digits/2', 'Outcome: failed', 'Outcome: breaker_open', 'Outcome: success']);
  assert.deepEqual(choices[0]!.filter, {});
  assert.deepEqual(choices.find((c) => c.label === 'Version: digits/2')!.filter, { model: 'digits', version: '2', outcome: 'failed' });
  const byVersion = filterChoices({ model: 'digits', version: '2' }, models, []);
  assert.deepEqual(byVersion.find((c) => c.label === 'Outcome: success')!.filter, { model: 'digits', version: '2', outcome: 'success' });
});

test('phases: one segment per recorded phase, each from the end of the one before; durations sum to the total within 1 ms', () => {
  const segs = phaseSegments(fullPhases);
  assert.deepEqual(segs.map((s) => s.phase), ['body_read', 'parsed', 'admitted', 'enqueued', 'queue', 'to_instance', 'compute', 'responded']);
  assert.ok(Math.abs(segs.reduce((a, s) => a + s.durationMs, 0) - fullPhases.responded_ms) < 1);
  const queue = segs.find((s) => s.phase === 'queue')!;
  assert.ok(Math.abs(queue.startMs - 0.7) < 1e-9 && Math.abs(queue.durationMs - 3) < 1e-9);
  // A request refused at admission: its phases stop there, then the answer.
  assert.deepEqual(phaseSegments({ body_read_ms: 0.1, parsed_ms: 0.3, responded_ms: 0.4 }).map((s) => s.phase), ['body_read', 'parsed', 'responded']);
  assert.deepEqual(phaseSegments({}), []);
});

function batchOf(reason: BatchRecord['reason'], queueDepth: number, requests: RequestRecord[]): BatchWithRequests {
  return { id: 'b7', model: 'digits', version: '1', rows: requests.length, request_ids: requests.map((r) => r.id), reason, queue_depth: queueDepth, dispatched_at: 1_000_003, compute_ms: 2, ok: true, requests };
}

test('the waterfall: a common axis from the earliest arrival; the request, the batch compute and each batch-mate as lanes', () => {
  const me = record(2, { received_at: 1_000_000, duration_ms: 6, phases: fullPhases, batch_id: 'b7', breaker: 'closed', entities: { count: 5, hits: 3, misses: 1, stale: 1, negative: 0 } });
  const early = record(1, { received_at: 999_998, duration_ms: 8, phases: { ...fullPhases, dispatched_ms: 5.7, compute_start_ms: 5.8, compute_end_ms: 7.8, responded_ms: 8 }, batch_id: 'b7' });
  const late = record(3, { received_at: 1_000_002, duration_ms: 4, phases: { enqueued_ms: 0.5, dispatched_ms: 1.7, compute_start_ms: 1.8, compute_end_ms: 3.8, responded_ms: 4 }, batch_id: 'b7' });
  const m = waterfallModel(me, batchOf('instance_idle', 3, [early, me, late]));
  assert.equal(m.axisMs, 8, 'from the earliest arrival (999,998) to the last end (1,000,006)');
  assert.deepEqual(m.lanes.map((l) => `${l.kind}:${l.id}`), ['request:r2', 'batch:b7', 'mate:r1', 'mate:r3']);
  assert.deepEqual(m.batch, { id: 'b7', rows: 3, requests: 3, mates: 2 });
  const mine = m.lanes[0]!.bars;
  assert.deepEqual(mine.map((b) => b.phase), ['body_read', 'parsed', 'admitted', 'enqueued', 'queue', 'to_instance', 'compute', 'responded']);
  // The request arrived 2 ms after the axis starts: every bar is shifted by 2 ms (25 %).
  assert.equal(mine[0]!.startMs, 2);
  assert.equal(mine[0]!.leftPct, 25);
  const q = mine.find((b) => b.phase === 'queue')!;
  assert.ok(Math.abs(q.startMs - 2.7) < 1e-9 && Math.abs(q.durationMs - 3) < 1e-9);
  assert.equal(q.aria, 'Queue wait: 3.00 ms, from 2.70 ms to 5.70 ms');
  const last = mine.at(-1)!;
  assert.ok(Math.abs(last.leftPct + last.widthPct - 100) < 0.01, 'the request ends where the axis ends');
  // The batch computed from this request's compute start (2 + 3.8 ms on the axis) for compute_ms.
  assert.ok(Math.abs(m.lanes[1]!.bars[0]!.startMs - 5.8) < 1e-9);
  assert.equal(m.lanes[1]!.bars[0]!.durationMs, 2);
  assert.match(m.lanes[2]!.bars[0]!.aria, /^Batch-mate r1, Body read:/);
  assert.equal(m.batchText, 'Batch b7: 3 rows from 3 requests; left when an instance became free (no queue delay configured); 3 requests were left waiting.');
  assert.match(releaseText({ ...batchOf('instance_idle', 3, [early, me, late]), device: 'webgpu' }), /^Batch b7 on webgpu: 3 rows/);
  assert.match(releaseText({ ...batchOf('instance_idle', 3, [early, me, late]), device: 'cpu', instance: 1, instance_count: 4 }), /^Batch b7 on instance 2 of 4, cpu: 3 rows/);
  assert.equal(placeText({ instance: 0, instance_count: 1 }), 'instance 1 of 1');
  assert.equal(placeText({}), '');
  const facts = Object.fromEntries(m.facts.map((f) => [f.label, f.value]));
  assert.equal(facts['Entity cache'], '5 ids: 3 hits, 1 miss, 1 stale, 0 negative');
  assert.equal(facts['Breaker'], 'closed');
  assert.equal(facts['Outcome'], 'success (HTTP 200)');
  assert.equal(m.ticks[0]!.ms, 0);
  assert.ok(m.ticks.every((t) => t.pct >= 0 && t.pct <= 100));
});

test('batch-mates are placed by the shared dispatch instant (sub-ms), not by their whole-ms arrival', () => {
  // Arrivals 1 ms apart on the epoch clock, but both dispatched 0.4 ms apart in their own terms.
  const me = record(1, { received_at: 1_000_000, duration_ms: 2, phases: { enqueued_ms: 0.2, dispatched_ms: 1.5, compute_start_ms: 1.6, compute_end_ms: 1.9, responded_ms: 2 } });
  const mate = record(2, { received_at: 1_000_001, duration_ms: 1.6, phases: { enqueued_ms: 0.2, dispatched_ms: 1.1, compute_start_ms: 1.2, compute_end_ms: 1.5, responded_ms: 1.6 } });
  const m = waterfallModel(me, batchOf('max_batch_size', 0, [me, mate]));
  const at = (lane: number, phase: string) => m.lanes[lane]!.bars.find((b) => b.phase === phase)!;
  assert.ok(Math.abs(at(0, 'queue').startMs + at(0, 'queue').durationMs - (at(2, 'queue').startMs + at(2, 'queue').durationMs)) < 1e-9, 'both queue waits end at the dispatch');
  assert.ok(Math.abs(at(2, 'enqueued').startMs - 0.4) < 1e-9, 'the mate arrived 0.4 ms later');
});

test('the waterfall without a batch (refused, or the batch no longer held) and with a failure', () => {
  const refused = record(5, { duration_ms: 0.4, phases: { body_read_ms: 0.1, parsed_ms: 0.3, responded_ms: 0.4 }, outcome: 'breaker_open', status: 503, error: 'open', breaker: 'open' });
  const m = waterfallModel(refused);
  assert.equal(m.lanes.length, 1);
  assert.equal(m.lanes[0]!.failed, true);
  assert.equal(m.batch, null);
  assert.equal(m.batchText, null);
  assert.equal(m.error, 'open');
  const gone = waterfallModel(record(6, { batch_id: 'b1' }));
  assert.equal(gone.facts.find((f) => f.label === 'Batch')!.value, 'b1 (no longer held by the agent)');
  assert.equal(waterfallModel(record(7)).facts.find((f) => f.label === 'Breaker')!.value, 'not reached');
});

test('release reasons in words, for each rule; singular and plural waiting', () => {
  const r = [record(1)];
  assert.match(releaseText(batchOf('max_queue_delay', 1, r)), /1 row from 1 request; left when its oldest request had waited max_queue_delay_ms; 1 request was left waiting\.$/);
  assert.match(releaseText(batchOf('max_batch_size', 0, r)), /left when it was full \(max_batch_size\); no requests were left waiting/);
  assert.match(releaseText(batchOf('preferred_size', 2, r)), /largest preferred batch size; 2 requests were left waiting/);
  assert.match(releaseText(batchOf('full_to_busy_instance', 0, r)), /early, for an instance still running the previous batch/);
  assert.match(releaseText(batchOf('unbatched', 0, r)), /ran alone/);
  assert.match(releaseText(batchOf('bisect', 0, r)), /half of a failed batch/);
});

test('axis ticks: 1, 2 or 5 × 10^k, at most 5 steps; times formatted to their size', () => {
  assert.equal(tickStep(8), 2);
  assert.equal(tickStep(0.9), 0.2);
  assert.equal(tickStep(30), 10);
  assert.equal(tickStep(1000), 200);
  assert.deepEqual([formatMs(1.234), formatMs(12.34), formatMs(123.4), formatMs(12_345)], ['1.23 ms', '12.3 ms', '123 ms', '12.3 s']);
});

test('the waterfall page: its own title, the same strict CSP as the Metrics view', () => {
  const html = panelHtml({ cspSource: 'vscode-webview://x', scriptUri: 'vscode-webview://x/waterfall.js', styleUri: 'vscode-webview://x/waterfall.css', nonce: 'abcdefghijklmnopqrstuv', title: 'Inferscope Request' });
  assert.match(html, /<title>Inferscope Request<\/title>/);
  assert.match(html, /default-src 'none'; script-src 'nonce-abcdefghijklmnopqrstuv'; style-src vscode-webview:\/\/x/);
  assert.match(html, /<script nonce="abcdefghijklmnopqrstuv" src="vscode-webview:\/\/x\/waterfall\.js">/);
  assert.doesNotMatch(html, /style="|unsafe-inline/);
});
