// Issue 17, OpenTelemetry: a real agent exports each request as a span tree over OTLP/HTTP
// (protobuf) to a receiver inside this test, which decodes what it gets with OpenTelemetry's own
// generated protobuf definitions (opentelemetry-proto, as @opentelemetry/otlp-proto-exporter-base
// ships them). A client's traceparent is continued; the phases are span events on the request span
// (the default) or child spans (`otlp_phases: "spans"`, a second agent); requests of one batch link
// to its batch span, which names the instance that ran it; Triton's /v2/trace/setting sets the
// sampling.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { InferenceClient } from '../helpers/grpcClient.js';
import { exampleRequest, request } from '../helpers/http.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const otlp = require('@opentelemetry/otlp-proto-exporter-base/build/src/generated/root').opentelemetry.proto;

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: number;
  end: number;
  status: number;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
  events: { name: string; time: number; attributes: Record<string, AttributeValue> }[];
  resource: Record<string, AttributeValue>;
}

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const nanos = (v: { toString(): string } | number) => Number(BigInt(v.toString()) / 1000n) / 1000; // ns → ms
type AttributeValue = string | number | boolean | AttributeValue[];
function valueOf(value: Record<string, any>): AttributeValue {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.intValue;
  return typeof v === 'object' && v !== null ? Number(String(v)) : (v as string | number | boolean); // intValue: a Long
}
function attributesOf(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) out[key] = valueOf(value);
  return out;
}

/** An OTLP/HTTP receiver: POST /v1/traces, protobuf in, protobuf out. */
class Receiver extends EventEmitter<{ spans: [ReceivedSpan[]] }> {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  readonly paths = new Set<string>();
  readonly apiKeys = new Set<string>();
  server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.paths.add(req.url ?? '');
        this.apiKeys.add(String(req.headers['x-api-key']));
        this.contentTypes.add(req.headers['content-type'] ?? '');
        const message = otlp.collector.trace.v1.ExportTraceServiceRequest.decode(Buffer.concat(chunks));
        const got: ReceivedSpan[] = [];
        for (const rs of message.resourceSpans) {
          const resource = attributesOf(rs.resource?.attributes);
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              got.push({
                traceId: hex(s.traceId),
                spanId: hex(s.spanId),
                parentSpanId: hex(s.parentSpanId),
                name: s.name,
                kind: s.kind,
                start: nanos(s.startTimeUnixNano),
                end: nanos(s.endTimeUnixNano),
                status: s.status?.code ?? 0,
                attributes: attributesOf(s.attributes),
                links: (s.links ?? []).map((l: { traceId: Uint8Array; spanId: Uint8Array; attributes: never }) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attributesOf(l.attributes) })),
                events: (s.events ?? []).map((e: { name: string; timeUnixNano: number; attributes: never }) => ({ name: e.name, time: nanos(e.timeUnixNano), attributes: attributesOf(e.attributes) })),
                resource,
              });
            }
          }
        }
        this.spans.push(...got);
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end(otlp.collector.trace.v1.ExportTraceServiceResponse.encode({}).finish());
        this.emit('spans', got);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with the spans received so far once `done(all)` holds (checked on each export). */
  async until(done: (all: ReceivedSpan[]) => boolean, what: string, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    if (done(this.spans)) return this.spans;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('spans', check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${this.spans.length} spans: ${this.spans.map((s) => s.name).join(', ')}`));
      }, timeoutMs);
      const check = () => {
        if (!done(this.spans)) return;
        clearTimeout(timer);
        this.off('spans', check);
        resolve(this.spans);
      };
      this.on('spans', check);
    });
  }
}

const repo = mkdtempSync(join(tmpdir(), 'inferscope-otlp-'));
const receiver = new Receiver();
let endpoint: string;
let agent: AgentProcess;
/** The same model, its phases exported as child spans (otlp_phases "spans"). */
let spansAgent: AgentProcess;

before(async () => {
  // digits/1 as "batched", whose queue waits 50 ms so that concurrent requests share a batch.
  cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, 'batched', '1'), { recursive: true });
  const config = JSON.parse(readFileSync(join(BUNDLED_MODELS, 'digits', 'config.json'), 'utf8')) as Record<string, unknown>;
  delete config.name;
  delete config.default_version;
  delete config.features;
  Object.assign(config, { execution_providers: ['cpu'], max_batch_size: 64, dynamic_batching: { max_queue_size: 1024, max_queue_delay_ms: 50 } });
  writeFileSync(join(repo, 'batched', 'config.json'), JSON.stringify(config));
  endpoint = await receiver.start();
  agent = await startAgent({ args: ['--models', repo, '--otlp-endpoint', endpoint], env: { OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_SERVICE_NAME: 'inferscope-under-test', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret-1' } });
  const spansConfig = join(repo, 'spans.json');
  writeFileSync(spansConfig, JSON.stringify({ otlp_phases: 'spans' }));
  spansAgent = await startAgent({ args: ['--models', repo, '--config', spansConfig, '--otlp-endpoint', endpoint], env: { OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_SERVICE_NAME: 'inferscope-phase-spans' } });
  for (const a of [agent, spansAgent]) for (let i = 0; i < 100; i++) if ((await request(`${a.url}/v2/health/ready`)).status === 200) break;
});
after(async () => {
  await agent?.stop();
  await spansAgent?.stop();
  receiver.server?.close();
  rmSync(repo, { recursive: true, force: true });
});

const infer = (id: string, headers: Record<string, string> = {}, to = agent) =>
  request(`${to.url}/v2/models/batched/infer`, { body: { ...exampleRequest(7), id }, headers });
const requestSpan = (spans: ReceivedSpan[], clientId: string) => spans.find((s) => s.name === 'infer batched' && s.attributes['inferscope.client_id'] === clientId);

test('a traceparent is continued: same trace id, the client\'s span as parent; phases are span events at the record\'s times; attributes and resource', async () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  const answer = await infer('with-parent', { traceparent: `00-${traceId}-${parentId}-01` });
  assert.equal(answer.status, 200);
  const spans = await receiver.until((all) => requestSpan(all, 'with-parent') !== undefined, 'span of the traced request');
  const span = requestSpan(spans, 'with-parent')!;
  assert.equal(span.traceId, traceId);
  assert.equal(span.parentSpanId, parentId);
  assert.equal(span.kind, otlp.trace.v1.Span.SpanKind.SPAN_KIND_SERVER);
  assert.equal(span.resource['service.name'], 'inferscope-under-test');
  assert.equal(span.attributes['inferscope.model'], 'batched');
  assert.equal(span.attributes['inferscope.version'], '1');
  assert.equal(span.attributes['inferscope.outcome'], 'success');
  assert.equal(span.attributes['http.response.status_code'], 200);
  assert.equal(span.attributes['inferscope.rows'], 1);
  assert.equal(span.attributes['inferscope.breaker.state'], 'closed');
  assert.match(String(span.attributes['inferscope.batch.id']), /^b/);
  const record = (await request<{ id: string; duration_ms: number; phases: Record<string, number> }>(`${agent.url}/api/v1/requests/with-parent`)).body;
  assert.equal(span.attributes['inferscope.request.id'], record.id, 'the span names the agent\'s record');
  assert.ok(Math.abs(span.end - span.start - record.duration_ms) < 0.01, `span lasts the record's ${record.duration_ms} ms (got ${span.end - span.start})`);
  // One event per phase the record has (but the answer, which is the span's end), in order, each
  // at the record's offset from the span's start.
  assert.equal(spans.filter((s) => s.parentSpanId === span.spanId).length, 0, 'no child spans');
  const expected = ['body_read', 'parsed', 'admitted', 'enqueued', 'dispatched', 'compute_start', 'compute_end'];
  assert.deepEqual(span.events.map((e) => e.name), expected);
  for (const e of span.events) {
    const offset = record.phases[`${e.name}_ms`]!;
    assert.ok(Math.abs(e.time - span.start - offset) < 0.01, `${e.name} at +${offset} ms (got +${e.time - span.start})`);
  }
  const queued = span.events.find((e) => e.name === 'dispatched')!.time - span.events.find((e) => e.name === 'enqueued')!.time;
  assert.ok(queued >= 40, `the request waited for the 50 ms queue delay (${queued} ms between enqueued and dispatched)`);
  assert.ok(receiver.contentTypes.has('application/x-protobuf'), [...receiver.contentTypes].join());
  assert.ok(receiver.paths.has('/v1/traces'), 'a bare collector address gets /v1/traces');
  assert.ok([...receiver.apiKeys].includes('secret-1'), 'OTEL_EXPORTER_OTLP_HEADERS is sent');
});

test('otlp_phases "spans": the phases are child spans of the request span instead', async () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  assert.equal((await infer('as-spans', { traceparent: `00-${traceId}-${parentId}-01` }, spansAgent)).status, 200);
  const spans = await receiver.until((all) => requestSpan(all, 'as-spans') !== undefined && all.some((s) => s.name === 'respond' && s.traceId === traceId), 'spans of the request');
  const span = requestSpan(spans, 'as-spans')!;
  assert.equal(span.resource['service.name'], 'inferscope-phase-spans');
  assert.deepEqual([span.traceId, span.parentSpanId, span.events.length], [traceId, parentId, 0]);
  const children = spans.filter((s) => s.parentSpanId === span.spanId);
  assert.deepEqual(children.map((s) => s.name).sort(), ['admission', 'compute', 'parse', 'queue', 'read body', 'respond']);
  for (const c of children) {
    assert.equal(c.traceId, traceId);
    assert.ok(c.start >= span.start - 0.001 && c.end <= span.end + 0.001, `${c.name} lies within the request`);
  }
  const queue = children.find((c) => c.name === 'queue')!;
  assert.ok(queue.end - queue.start >= 40, `the request waited for the 50 ms queue delay (queue span ${queue.end - queue.start} ms)`);
  const compute = children.find((c) => c.name === 'compute')!;
  assert.equal(compute.attributes['inferscope.batch.id'], span.attributes['inferscope.batch.id']);
  assert.equal(span.links.length, 1, 'the request links to its batch');
});

test('requests sent at once share a batch: each request span links to the batch span, which lists the batch', async () => {
  const ids = Array.from({ length: 8 }, (_, i) => `together-${i}`);
  const answers = await Promise.all(ids.map((id) => infer(id)));
  assert.ok(answers.every((a) => a.status === 200));
  const spans = await receiver.until((all) => ids.every((id) => requestSpan(all, id)), 'spans of the 8 requests');
  const batchIds = new Set<string>();
  for (const id of ids) {
    const span = requestSpan(spans, id)!;
    assert.equal(span.parentSpanId, '', 'no traceparent: a new trace');
    assert.equal(span.links.length, 1, `${id} links to its batch`);
    const [link] = span.links;
    const batch = spans.find((s) => s.spanId === link!.spanId);
    assert.ok(batch, `${id}'s batch span was exported`);
    assert.equal(batch.name, 'batch batched/1');
    assert.equal(batch.traceId, link!.traceId);
    assert.equal(batch.attributes['inferscope.batch.id'], span.attributes['inferscope.batch.id']);
    assert.equal(link!.attributes['inferscope.batch.id'], span.attributes['inferscope.batch.id']);
    assert.ok(['instance_idle', 'max_queue_delay', 'max_batch_size', 'full_to_busy_instance'].includes(String(batch.attributes['inferscope.batch.reason'])), String(batch.attributes['inferscope.batch.reason']));
    assert.ok((batch.attributes['inferscope.batch.request_ids'] as unknown as string[]).includes(String(span.attributes['inferscope.request.id'])), 'the batch span lists the request');
    const computeStart = span.events.find((e) => e.name === 'compute_start')!;
    assert.ok(Math.abs(computeStart.time - batch.start) < 5, 'the request\'s compute starts with its batch');
    // One CPU instance (instance_count 1): instance 0 of 1.
    assert.deepEqual([batch.attributes['inferscope.batch.instance'], batch.attributes['inferscope.batch.instances']], [0, 1]);
    batchIds.add(String(batch.attributes['inferscope.batch.id']));
  }
  assert.ok(batchIds.size < ids.length, `8 requests at once shared batches (${batchIds.size} batches)`);
  // One span per batch, however many of its requests were exported.
  for (const b of batchIds) assert.equal(spans.filter((s) => s.name === 'batch batched/1' && s.attributes['inferscope.batch.id'] === b).length, 1);
  const rows = spans.find((s) => s.name === 'batch batched/1' && s.attributes['inferscope.batch.id'] === [...batchIds][0])!.attributes['inferscope.batch.rows'];
  assert.ok(Number(rows) >= 1);
});

test('gRPC: traceparent metadata is continued too', async () => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  const grpc = new InferenceClient(agent.grpcPort!);
  try {
    const pixels = exampleRequest(3).inputs[0]!.data as number[];
    await grpc.call(
      'ModelInfer',
      { model_name: 'batched', id: 'over-grpc', inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 784] }], raw_input_contents: [Buffer.from(Float32Array.from(pixels).buffer)] },
      { metadata: { traceparent: `00-${traceId}-${parentId}-01` } },
    );
  } finally {
    grpc.close();
  }
  const span = requestSpan(await receiver.until((all) => requestSpan(all, 'over-grpc') !== undefined, 'span of the gRPC request'), 'over-grpc')!;
  assert.deepEqual([span.traceId, span.parentSpanId, span.attributes['inferscope.protocol'], span.attributes['inferscope.status'], span.attributes['rpc.system']], [traceId, parentId, 'grpc', 'OK', 'grpc']);
});

test('/v2/trace/setting: trace_rate 2 exports every other request, OFF none; per-model settings; bad settings are 400', async () => {
  const settings = (path = '/v2/trace/setting', body?: unknown) => request(`${agent.url}${path}`, body === undefined ? {} : { body });
  assert.ok(((await request<{ extensions: string[] }>(`${agent.url}/v2`)).body.extensions).includes('trace'));
  assert.deepEqual((await settings()).body, { trace_level: ['TIMESTAMPS'], trace_rate: '1', trace_count: '-1', trace_mode: 'opentelemetry' });

  // A marker: sent after the others with every request sampled; once its span is here, so are
  // the spans of the requests before it (the export keeps their order).
  const marker = async (id: string) => {
    assert.equal((await settings('/v2/trace/setting', { trace_rate: '1', trace_level: ['TIMESTAMPS'] })).status, 200);
    await infer(id);
    await receiver.until((all) => requestSpan(all, id) !== undefined, `span of ${id}`);
  };

  const rate = await settings('/v2/trace/setting', { trace_rate: '2' });
  assert.deepEqual([rate.status, rate.body.trace_rate], [200, '2']);
  const every = Array.from({ length: 10 }, (_, i) => `rate2-${i}`);
  for (const id of every) await infer(id);
  await marker('marker-1');
  const exported = every.filter((id) => requestSpan(receiver.spans, id));
  assert.deepEqual(exported, every.filter((_, i) => i % 2 === 0), 'rate 2: the 1st, 3rd, 5th… request');

  assert.deepEqual((await settings('/v2/trace/setting', { trace_level: ['OFF'] })).body.trace_level, ['OFF']);
  const off = ['off-0', 'off-1', 'off-2'];
  for (const id of off) await infer(id);
  await marker('marker-2');
  assert.deepEqual(off.filter((id) => requestSpan(receiver.spans, id)), [], 'OFF: nothing exported');

  // Per model: its own level over the global one; null drops it.
  const own = await settings('/v2/models/batched/trace/setting', { trace_level: ['OFF'] });
  assert.deepEqual([own.status, own.body.trace_level], [200, ['OFF']]);
  assert.deepEqual((await settings()).body.trace_level, ['TIMESTAMPS']);
  await infer('model-off');
  assert.deepEqual((await settings('/v2/models/batched/trace/setting', { trace_level: null })).body.trace_level, ['TIMESTAMPS']);
  await marker('marker-3');
  assert.equal(requestSpan(receiver.spans, 'model-off'), undefined);

  for (const bad of [{ trace_rate: '0' }, { trace_rate: 'often' }, { trace_level: ['TENSORS'] }, { trace_level: ['LOUD'] }, { trace_file: '/tmp/x' }, [1]]) {
    const r = await settings('/v2/trace/setting', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(typeof r.body.error, 'string');
  }
  assert.equal((await settings('/v2/models/nope/trace/setting')).status, 404);
  assert.deepEqual((await settings()).body, { trace_level: ['TIMESTAMPS'], trace_rate: '1', trace_count: '-1', trace_mode: 'opentelemetry' }, 'a refused setting changed nothing');
});

test('spans still buffered on the export thread are sent when the agent stops (SIGTERM)', async () => {
  // A processor that would wait a minute: only the shutdown's flush can send this request's span.
  const late = await startAgent({ args: ['--models', repo, '--otlp-endpoint', endpoint], env: { OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_SERVICE_NAME: 'inferscope-stopping' } });
  try {
    for (let i = 0; i < 100; i++) if ((await request(`${late.url}/v2/health/ready`)).status === 200) break;
    assert.equal((await infer('sent-at-stop', {}, late)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(requestSpan(receiver.spans, 'sent-at-stop'), undefined, 'not sent before the stop');
  } finally {
    await late.stop();
  }
  const spans = await receiver.until((all) => requestSpan(all, 'sent-at-stop') !== undefined, 'the span flushed at shutdown', 5000);
  assert.equal(requestSpan(spans, 'sent-at-stop')!.resource['service.name'], 'inferscope-stopping');
});
