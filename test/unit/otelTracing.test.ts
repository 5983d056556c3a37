// The pure parts of the OpenTelemetry export (issue 17): traceparent parsing, Triton's trace
// settings (validation, per-model overrides, 1-in-N sampling), where traces are sent, and what
// RequestLog hands the exporter.
import assert from 'node:assert/strict';
import { SpanKind, TraceFlags } from '@opentelemetry/api';
import { test } from 'node:test';
import type { RequestRecord } from '../../common/api.js';
import type { BatchEvent } from '../../agent/src/batching/dynamicBatcher.js';
import { parseCliArgs } from '../../agent/src/cli/parseCliArgs.js';
import { InvalidInputError } from '../../agent/src/errors.js';
import { FinishedSpan, hrTime, newSpanId, newTraceId } from '../../agent/src/tracing/finishedSpan.js';
import { otlpTarget, tracesUrl } from '../../agent/src/tracing/otlpEndpoint.js';
import { RequestLog } from '../../agent/src/tracing/requestLog.js';
import { RequestRecorder } from '../../agent/src/tracing/requestRecorder.js';
import { RequestTrace } from '../../agent/src/tracing/requestTrace.js';
import { parseTraceparent } from '../../agent/src/tracing/traceparent.js';
import { parseTraceSettingRequest, TraceSettings } from '../../agent/src/tracing/traceSettings.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('traceparent: the W3C example; the sampled flag; invalid values start a new trace', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, sampled: false });
  assert.deepEqual(parseTraceparent(` 00-${TRACE}-${SPAN}-03 `), { traceId: TRACE, spanId: SPAN, sampled: true }, 'other flag bits are ignored');
  // A later version may add fields after the flags.
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`), { traceId: TRACE, spanId: SPAN, sampled: true });
  for (const bad of [
    undefined,
    '',
    [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`],
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `ff-${TRACE}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-1`,
    `00_${TRACE}_${SPAN}_01`,
  ]) {
    assert.equal(parseTraceparent(bad), undefined, JSON.stringify(bad));
  }
});

test('trace settings: Triton\'s format in and out; null resets; a refused request changes nothing', () => {
  const s = new TraceSettings();
  assert.deepEqual(s.view(), { trace_level: ['TIMESTAMPS'], trace_rate: '1', trace_count: '-1', trace_mode: 'opentelemetry' });
  assert.deepEqual(s.update({ trace_rate: '100', trace_level: ['OFF'] }), { trace_level: ['OFF'], trace_rate: '100', trace_count: '-1', trace_mode: 'opentelemetry' });
  assert.deepEqual(s.update({ trace_level: 'timestamps', trace_rate: 5 }).trace_level, ['TIMESTAMPS'], 'one string and a number are taken too');
  assert.equal(s.view().trace_rate, '5');
  assert.throws(() => s.update({ trace_rate: '2', trace_level: ['TENSORS'] }), InvalidInputError);
  assert.equal(s.view().trace_rate, '5', 'nothing applied from a refused request');
  assert.deepEqual(s.update({ trace_rate: null, trace_level: null }).trace_rate, '1');
  for (const bad of [null, [], 'x', { trace_rate: '0' }, { trace_rate: '-1' }, { trace_rate: '1.5' }, { trace_rate: '' }, { trace_rate: true }, { trace_level: [] }, { trace_level: ['OFF', 'TIMESTAMPS'] }, { trace_level: [1] }, { trace_count: '10' }, { trace_mode: 'triton' }, { trace_file: 'x' }, { log_frequency: '0' }]) {
    assert.throws(() => parseTraceSettingRequest(bad), InvalidInputError, JSON.stringify(bad));
  }
  assert.deepEqual(parseTraceSettingRequest({ trace_count: '-1', trace_mode: 'opentelemetry' }), {}, 'Triton\'s defaults are accepted and change nothing');
});

test('trace settings: a model\'s own settings win over the global ones until set to null', () => {
  const s = new TraceSettings();
  s.update({ trace_rate: '10' }, 'a');
  assert.deepEqual([s.view('a').trace_rate, s.view('b').trace_rate, s.view().trace_rate], ['10', '1', '1']);
  s.update({ trace_level: ['OFF'] });
  assert.deepEqual([s.view('a').trace_level, s.view('a').trace_rate], [['OFF'], '10'], 'the global level applies where the model sets none');
  s.update({ trace_level: ['TIMESTAMPS'] }, 'a');
  assert.deepEqual([s.view('a').trace_level, s.view('b').trace_level], [['TIMESTAMPS'], ['OFF']]);
  s.update({ trace_level: null, trace_rate: null }, 'a');
  assert.deepEqual(s.view('a'), s.view());
});

test('sampling: every rate-th request of a model from the first, OFF none, a client\'s traceparent decides its own request', () => {
  const s = new TraceSettings();
  const run = (model: string, n: number) => Array.from({ length: n }, () => s.sample(model));
  assert.deepEqual(run('m', 3), [true, true, true]);
  s.update({ trace_rate: '3' });
  assert.deepEqual(run('m', 7), [true, false, false, true, false, false, true]);
  assert.deepEqual(run('other', 2), [true, false], 'each model counts its own requests');
  const parent = { traceId: TRACE, spanId: SPAN };
  assert.equal(s.sample('m', { ...parent, sampled: true }), true);
  assert.equal(s.sample('m', { ...parent, sampled: false }), false);
  s.update({ trace_rate: '4' }, 'm');
  assert.deepEqual(run('m', 5), [true, false, false, false, true], 'a change starts the count again');
  s.update({ trace_level: ['OFF'] });
  assert.deepEqual(run('m', 3), [false, false, false]);
  assert.equal(s.sample('m', { ...parent, sampled: true }), false, 'OFF wins over a client\'s sampled flag');
});

test('without an OTLP endpoint the level is OFF and TIMESTAMPS is refused with the flag to set', () => {
  const s = new TraceSettings(false);
  assert.deepEqual(s.view().trace_level, ['OFF']);
  assert.equal(s.sample('m'), false);
  assert.throws(() => s.update({ trace_level: ['TIMESTAMPS'] }), /--otlp-endpoint/);
  assert.equal(s.update({ trace_rate: '7' }).trace_rate, '7');
});

test('where traces go: a bare collector address gets /v1/traces; the flag wins over the environment; none without either', () => {
  assert.equal(tracesUrl('http://localhost:4318'), 'http://localhost:4318/v1/traces');
  assert.equal(tracesUrl('http://localhost:4318/'), 'http://localhost:4318/v1/traces');
  assert.equal(tracesUrl('https://collector.example/otlp/v1/traces'), 'https://collector.example/otlp/v1/traces');
  assert.equal(otlpTarget('', {}), undefined, 'off by default');
  assert.deepEqual(otlpTarget('http://a:4318', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' }), { url: 'http://a:4318/v1/traces', shown: 'http://a:4318/v1/traces' });
  assert.deepEqual(otlpTarget('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' }), { shown: 'http://b:4318/' }, 'the SDK reads the variable itself');
  assert.deepEqual(otlpTarget('', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), { shown: 'http://c:4318/v1/traces' });
  assert.equal(otlpTarget('http://a:4318', { OTEL_TRACES_EXPORTER: 'none' }), undefined);
  assert.equal(otlpTarget('http://user:secret@a:4318', {})!.shown.includes('secret'), false, 'no credentials in the log');
});

test('--otlp-endpoint: an http(s) URL, else a clear error', () => {
  const run = parseCliArgs(['--otlp-endpoint', 'http://127.0.0.1:4318']);
  assert.equal(run.kind === 'run' && run.overrides.otlp_endpoint, 'http://127.0.0.1:4318');
  assert.throws(() => parseCliArgs(['--otlp-endpoint', 'localhost:4318']), /--otlp-endpoint localhost:4318: expected an http/);
  assert.throws(() => parseCliArgs(['--otlp-endpoint', 'grpc://x:4317']), /OTLP\/HTTP/);
});

test('RequestLog feeds the exporter with each record and its trace, and each batch; with recording off it still exports', () => {
  const got: string[] = [];
  const exporter = {
    request: (r: RequestRecord, t: RequestTrace) => got.push(`request ${r.id} ${t.id === r.id} ${String(t.traceparent)}`),
    batch: (model: string, version: string, e: BatchEvent) => got.push(`batch ${model}/${version} ${e.id}`),
  };
  const events: unknown[] = [];
  const log = new RequestLog(new RequestRecorder({ requests: 0, failures: 0, batches: 0, slowestMinutes: 60 }), (e) => events.push(e));
  assert.equal(log.enabled, false, 'nothing kept, nothing exported: the doors make no traces');
  log.exporter = exporter;
  assert.equal(log.enabled, true);
  const trace = new RequestTrace('rest', 'm', '1');
  trace.traceparent = `00-${TRACE}-${SPAN}-01`;
  log.batch('m', '1', { id: 'b1', reason: 'instance_idle', queueDepth: 0, requestIds: [trace.id], dispatchedAt: performance.now(), rows: 1, requests: 1, inputS: 0, inferS: 0, outputS: 0, computeS: 0, ok: true });
  log.record(trace.finish(200), trace);
  assert.deepEqual(got, ['batch m/1 b1', `request ${trace.id} true 00-${TRACE}-${SPAN}-01`]);
  assert.deepEqual([log.recorder.stats().requests, log.recorder.stats().slowest, log.recorder.stats().batches, events.length], [0, 0, 0, 0], 'recording off: nothing kept or published');
});

test('spans built whole: epoch ms to [s, ns] without a carry lost; random ids of the right size; attributes and events made when read', () => {
  assert.deepEqual(hrTime(1_700_000_000_123.456), [1_700_000_000, 123_456_000]);
  assert.deepEqual(hrTime(1_999.9999999), [2, 0], 'rounding up to a whole second carries into the seconds');
  const ids = new Set(Array.from({ length: 1000 }, () => newTraceId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  assert.match(newSpanId(), /^[0-9a-f]{16}$/);
  let made = 0;
  const resource = { attributes: {} } as never;
  const span = new FinishedSpan('infer m', SpanKind.SERVER, resource, { name: 'inferscope' }, TRACE, undefined, 1000.5, 1000.25, () => ({ made: ++made }), () => [{ name: 'parsed', time: hrTime(1000.75) }]);
  assert.equal(made, 0, 'nothing made before the exporter reads it');
  assert.deepEqual(span.attributes, { made: 1 });
  assert.deepEqual(span.events.map((e) => e.name), ['parsed']);
  assert.deepEqual([span.startTime, span.endTime, span.duration], [[1, 500_000], [1, 500_000], [0, 0]], 'an end before the start is the start');
  assert.equal(span.spanContext().traceId, TRACE);
  assert.equal(span.spanContext().traceFlags & TraceFlags.SAMPLED, TraceFlags.SAMPLED, 'the processor drops unsampled spans');
});
