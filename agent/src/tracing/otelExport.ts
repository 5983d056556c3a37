// OpenTelemetry export of the request records (issue 17): each finished request becomes a span
// tree, built after the fact from its RequestTrace's times, and each batch that a sampled request
// rode in becomes one span that the request spans link to. Spans are built whole (finishedSpan.ts)
// and handed to the SDK's BatchSpanProcessor, which sends them with its OTLP/HTTP protobuf
// exporter. Fed by RequestLog.record()/batch(); loaded (import()) only when export is on, so an
// agent without an endpoint never evaluates the SDK.
//
// Spans:
// - `infer <model>` (SERVER): received → response written. Parent: the client's span when the
//   request carried a valid W3C traceparent (REST header, gRPC metadata), else a new trace.
//   Attributes: inferscope.* (request id, model, version, outcome, status, rows, batch id, breaker
//   state, entity counts, canary routing) and rpc/http conventions where they apply.
// - The phases it reached (only those it has times for), one of two ways (`otlp_phases`):
//   `events` (the default, as Triton's TIMESTAMPS level exports them): one span event per phase
//   end on the request span, named after the record's phase (`body_read`, `parsed`, `features`,
//   `admitted`, `enqueued`, `dispatched`, `compute_start`, `compute_end`), at its time; or
//   `spans`: a child span per phase, `read body`, `parse`, `features`, `admission`, `queue`
//   (enqueued → batch dispatched), `compute` (its batch's run on an instance), `respond` (compute
//   end → response written). Events cost about half as much (bench:records): one span is built,
//   sampled and serialised per request instead of seven.
// - `batch <model>/<version>` (INTERNAL): dispatched → computed, a root span of its own trace
//   (a batch serves requests from many traces, so it belongs to none of them). Batches end before
//   their requests do, and a span's links are set when it starts, so the link goes from each
//   request span to its batch span (with inferscope.batch.id on the link), not the other way.
//   The batch span is created, once, when the first sampled request of the batch finishes: a batch
//   none of whose requests is sampled is never exported.
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, resourceAttributesEnvDetector, resourceFromAttributes, serviceNameEnvDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type TimedEvent } from '@opentelemetry/sdk-trace';
import type { RequestPhases, RequestRecord } from '../../../common/api.js';
import type { LogFields } from '../log/logger.js';
import type { BatchEvent } from '../batching/dynamicBatcher.js';
import { FinishedSpan, hrTime, newTraceId, type Lazy } from './finishedSpan.js';
import type { RequestExporter } from './requestLog.js';
import type { RequestTrace } from './requestTrace.js';
import { parseTraceparent } from './traceparent.js';
import type { TraceSettings } from './traceSettings.js';

/** How a request's phases are exported: span events on the request span, or child spans. */
export type PhaseExport = 'events' | 'spans';

export interface OtlpExportOptions {
  /** The traces URL; undefined: the SDK reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT. */
  url?: string;
  serviceVersion: string;
  settings: TraceSettings;
  /** Default `events`. */
  phases?: PhaseExport;
  /** Export failures go here (the SDK's own diagnostics are silent by default). */
  warn: (message: string, fields?: LogFields) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Epoch ms of the clock the traces' and batches' times count from: the agent's main thread's
   * performance.timeOrigin when this runs on the export thread (each thread has its own origin).
   */
  timeOrigin?: number;
}

/** A batch whose span is not made yet, or made: kept until all its requests have finished. */
interface PendingBatch {
  model: string;
  version: string;
  event: BatchEvent;
  /** Its requests not yet finished. */
  left: number;
  /** The link to its span, made with the span, shared by its requests' spans (never changed). */
  links?: Link[];
}

/** Batches held at most (a request that never finishes must not hold its batch forever). */
const MAX_PENDING_BATCHES = 4096;

/** The phases as span events: the record's phase, the event's name. */
const PHASE_EVENTS: [keyof RequestPhases, string][] = [
  ['body_read_ms', 'body_read'],
  ['parsed_ms', 'parsed'],
  ['features_ms', 'features'],
  ['admitted_ms', 'admitted'],
  ['enqueued_ms', 'enqueued'],
  ['dispatched_ms', 'dispatched'],
  ['compute_start_ms', 'compute_start'],
  ['compute_end_ms', 'compute_end'],
];

/** The phases as child spans: name, from (the previous mark reached), to. */
const PHASES: [string, keyof RequestPhases][] = [
  ['read body', 'body_read_ms'],
  ['parse', 'parsed_ms'],
  ['features', 'features_ms'],
  ['admission', 'admitted_ms'],
];

export class OtlpExport implements RequestExporter {
  private readonly processor: BatchSpanProcessor;
  private readonly resource: ReadableSpan['resource'];
  private readonly scope: ReadableSpan['instrumentationScope'];
  private readonly batches = new Map<string, PendingBatch>();

  constructor(private readonly opts: OtlpExportOptions) {
    const env = opts.env ?? process.env;
    const exporter = new OTLPTraceExporter({ ...(opts.url ? { url: opts.url } : {}) });
    this.resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': 'inferscope', 'service.version': opts.serviceVersion }))
      .merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
    this.scope = { name: 'inferscope', version: opts.serviceVersion };
    this.processor = new BatchSpanProcessor({
      exporter: withWarnings(exporter, opts.warn),
      // The SDK's BatchSpanProcessor no longer reads the OTEL_BSP_* variables: read here.
      scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
      maxQueueSize: envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 16_384),
      maxExportBatchSize: envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
      exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
    });
  }

  private lastFault = 0;

  batch(model: string, version: string, event: BatchEvent): void {
    const left = event.requestIds.reduce((n, id) => (id ? n + 1 : n), 0);
    if (left === 0) return;
    this.batches.set(event.id, { model, version, event, left });
    if (this.batches.size > MAX_PENDING_BATCHES) this.batches.delete(this.batches.keys().next().value!);
  }

  /** A request of `batchId` that was not sampled (decided on the main thread): its batch waits for one request less. */
  unsampled(batchId: string): void {
    const pending = this.batches.get(batchId);
    if (pending && --pending.left <= 0) this.batches.delete(batchId);
  }

  /** Called where the answer was written: the export's own failure must never reach the request path. */
  request(r: RequestRecord, t: Pick<RequestTrace, 'receivedAt' | 'traceparent'>): void {
    try {
      this.export(r, t);
    } catch (err) {
      if (Date.now() - this.lastFault > 60_000) {
        this.lastFault = Date.now();
        this.opts.warn('OTLP trace export: a request span could not be built', { request: r.id, error: (err as Error)?.message ?? String(err) });
      }
    }
  }

  private span(name: string, kind: SpanKind, traceId: string, parent: SpanContext | undefined, startMs: number, endMs: number, attributes: Lazy<Attributes>, events?: Lazy<TimedEvent[]>): FinishedSpan {
    return new FinishedSpan(name, kind, this.resource, this.scope, traceId, parent, startMs, endMs, attributes, events);
  }

  private export(r: RequestRecord, t: Pick<RequestTrace, 'receivedAt' | 'traceparent'>): void {
    const pending = r.batch_id === undefined ? undefined : this.batches.get(r.batch_id);
    if (pending && --pending.left <= 0) this.batches.delete(r.batch_id!);
    const parent = parseTraceparent(t.traceparent);
    if (!this.opts.settings.sample(r.model, parent)) return;

    const start = (this.opts.timeOrigin ?? performance.timeOrigin) + t.receivedAt;
    const end = start + (r.phases.responded_ms ?? r.duration_ms);
    const parentContext: SpanContext | undefined = parent ? { traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } : undefined;
    const traceId = parent ? parent.traceId : newTraceId();
    const events = this.opts.phases === 'spans' ? undefined : () => phaseEvents(r, start);
    // The record does not change once finished: attributes and events are made from it when sent.
    const span = this.span(`infer ${r.model}`, SpanKind.SERVER, traceId, parentContext, start, end, () => requestAttributes(r), events);
    if (pending) span.links = pending.links ??= [{ context: this.batchSpan(pending), attributes: { 'inferscope.batch.id': pending.event.id } }];
    if (r.outcome !== 'success') span.status = { code: SpanStatusCode.ERROR, message: r.error ?? r.outcome };
    if (events) {
      this.processor.onEnd(span);
      return;
    }

    const at = (phase: keyof RequestPhases) => (r.phases[phase] === undefined ? undefined : start + r.phases[phase]!);
    const inside = span.spanContext();
    const children: FinishedSpan[] = [];
    const child = (name: string, from: number | undefined, to: number | undefined, attributes: Attributes = NO_ATTRIBUTES) => {
      if (from === undefined || to === undefined) return;
      children.push(this.span(name, SpanKind.INTERNAL, traceId, inside, from, to, attributes));
    };
    let previous = start;
    for (const [name, phase] of PHASES) {
      const until = at(phase);
      if (until === undefined) continue;
      child(name, previous, until, name === 'features' && r.entities ? entityAttributes(r.entities) : undefined);
      previous = until;
    }
    child('queue', at('enqueued_ms'), at('dispatched_ms'));
    child('compute', at('compute_start_ms'), at('compute_end_ms'), r.batch_id ? { 'inferscope.batch.id': r.batch_id } : undefined);
    child('respond', at('compute_end_ms'), at('responded_ms'));
    // Children first, as a Tracer would have ended them.
    for (const c of children) this.processor.onEnd(c);
    this.processor.onEnd(span);
  }

  /** Makes (and ends) the batch's span; its context is what request spans link to. */
  private batchSpan(b: PendingBatch): SpanContext {
    const e = b.event;
    const start = (this.opts.timeOrigin ?? performance.timeOrigin) + e.dispatchedAt;
    const attributes: Attributes = {
      'inferscope.batch.id': e.id,
      'inferscope.model': b.model,
      'inferscope.version': b.version,
      'inferscope.batch.reason': e.reason,
      'inferscope.batch.rows': e.rows,
      'inferscope.batch.requests': e.requests,
      'inferscope.batch.queue_depth': e.queueDepth,
      'inferscope.batch.ok': e.ok,
      // The agent's ids of its requests (GET /api/v1/requests/{id}), sampled or not.
      'inferscope.batch.request_ids': e.requestIds.filter(Boolean),
    };
    if (e.instance !== undefined) {
      attributes['inferscope.batch.instance'] = e.instance;
      attributes['inferscope.batch.instances'] = e.instances ?? e.instance + 1;
    }
    const span = this.span(`batch ${b.model}/${b.version}`, SpanKind.INTERNAL, newTraceId(), undefined, start, start + (e.inputS + e.inferS + e.outputS) * 1000, attributes);
    if (!e.ok) span.status = { code: SpanStatusCode.ERROR, message: 'the batch failed to run' };
    this.processor.onEnd(span);
    return span.spanContext();
  }

  /**
   * Sends what is buffered (the agent's shutdown), waiting at most `timeoutMs`: a collector that
   * does not answer must not hold the agent's exit.
   */
  async shutdown(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
      timer.unref();
    });
    const done = await Promise.race([this.processor.shutdown().then(() => 'sent' as const), late]);
    clearTimeout(timer);
    if (done === 'late') this.opts.warn('OTLP trace export: spans still unsent at shutdown were dropped', { waited_ms: timeoutMs });
  }

  async flush(): Promise<void> {
    await this.processor.forceFlush();
  }
}

const NO_ATTRIBUTES: Attributes = Object.freeze({}) as Attributes;

/** The request's phases as span events, at their times (epoch ms `start` + the phase's offset). */
function phaseEvents(r: RequestRecord, start: number): TimedEvent[] {
  const events: TimedEvent[] = [];
  for (const [phase, name] of PHASE_EVENTS) {
    const ms = r.phases[phase];
    if (ms === undefined) continue;
    const time = hrTime(start + ms);
    events.push(phase === 'features_ms' && r.entities ? { name, time, attributes: entityAttributes(r.entities) } : { name, time });
  }
  return events;
}

function requestAttributes(r: RequestRecord): Attributes {
  const a: Attributes = {
    'inferscope.request.id': r.id,
    'inferscope.protocol': r.protocol,
    'inferscope.model': r.model,
    'inferscope.outcome': r.outcome,
    'inferscope.status': String(r.status),
    'inferscope.canary_routed': r.canary_routed,
  };
  if (r.protocol === 'rest' && typeof r.status === 'number') a['http.response.status_code'] = r.status;
  if (r.protocol === 'grpc') {
    a['rpc.system'] = 'grpc';
    a['rpc.method'] = 'ModelInfer';
  }
  if (r.client_id !== undefined) a['inferscope.client_id'] = r.client_id;
  if (r.version !== undefined) a['inferscope.version'] = r.version;
  if (r.rows !== undefined) a['inferscope.rows'] = r.rows;
  if (r.batch_id !== undefined) a['inferscope.batch.id'] = r.batch_id;
  if (r.breaker !== undefined) a['inferscope.breaker.state'] = r.breaker;
  if (r.entities) Object.assign(a, entityAttributes(r.entities));
  if (r.error !== undefined) a['error.type'] = r.outcome;
  return a;
}

function entityAttributes(e: NonNullable<RequestRecord['entities']>): Attributes {
  return {
    'inferscope.entities.count': e.count,
    'inferscope.entities.hits': e.hits,
    'inferscope.entities.misses': e.misses,
    'inferscope.entities.stale': e.stale,
    'inferscope.entities.negative': e.negative,
  };
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const n = Number(env[name]);
  return env[name] !== undefined && env[name] !== '' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The exporter, with failed exports logged (at most one warning a minute: a collector that is down must not flood the log). */
function withWarnings(exporter: OTLPTraceExporter, warn: OtlpExportOptions['warn']): OTLPTraceExporter {
  let lastWarned = 0;
  const exportSpans = exporter.export.bind(exporter);
  exporter.export = (spans, done) =>
    exportSpans(spans, (result) => {
      if (result.code !== 0 && Date.now() - lastWarned > 60_000) {
        lastWarned = Date.now();
        warn('OTLP trace export failed', { spans: spans.length, error: result.error?.message ?? 'unknown' });
      }
      done(result);
    });
  return exporter;
}
