// OpenTelemetry export of the request records (issue 17): each finished request becomes a span
// tree, built after the fact from its RequestTrace's times, and each batch that a sampled request
// rode in becomes one span that the request spans link to. Sent by the SDK's OTLP/HTTP protobuf
// exporter. Fed by RequestLog.record()/batch(); loaded (import()) only when export is on, so an
// agent without an endpoint never evaluates the SDK.
//
// Spans:
// - `infer <model>` (SERVER): received → response written. Parent: the client's span when the
//   request carried a valid W3C traceparent (REST header, gRPC metadata), else a new trace.
//   Attributes: inferscope.* (request id, model, version, outcome, status, rows, batch id, breaker
//   state, entity counts, canary routing) and rpc/http conventions where they apply.
// - Its children, one per phase that the request reached (only the phases it has times for):
//   `read body`, `parse`, `features`, `admission`, `queue` (enqueued → batch dispatched),
//   `compute` (its batch's run on an instance), `respond` (compute end → response written).
// - `batch <model>/<version>` (INTERNAL): dispatched → computed, a root span of its own trace
//   (a batch serves requests from many traces, so it belongs to none of them). Batches end before
//   their requests do, and a span's links are set when it starts, so the link goes from each
//   request span to its batch span (with inferscope.batch.id on the link), not the other way.
//   The batch span is created, once, when the first sampled request of the batch finishes: a batch
//   none of whose requests is sampled is never exported.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace as otelTrace, type Attributes, type Link, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, resourceAttributesEnvDetector, resourceFromAttributes, serviceNameEnvDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { RequestPhases, RequestRecord } from '../../../common/api.js';
import type { LogFields } from '../log/logger.js';
import type { BatchEvent } from '../batching/dynamicBatcher.js';
import type { RequestExporter } from './requestLog.js';
import type { RequestTrace } from './requestTrace.js';
import { parseTraceparent } from './traceparent.js';
import type { TraceSettings } from './traceSettings.js';

export interface OtlpExportOptions {
  /** The traces URL; undefined: the SDK reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT. */
  url?: string;
  serviceVersion: string;
  settings: TraceSettings;
  /** Export failures go here (the SDK's own diagnostics are silent by default). */
  warn: (message: string, fields?: LogFields) => void;
  env?: NodeJS.ProcessEnv;
}

/** A batch whose span is not made yet, or made: kept until all its requests have finished. */
interface PendingBatch {
  model: string;
  version: string;
  event: BatchEvent;
  /** Its requests not yet finished. */
  left: number;
  context?: SpanContext;
}

/** Batches held at most (a request that never finishes must not hold its batch forever). */
const MAX_PENDING_BATCHES = 4096;

/** The phases as child spans: name, from (the previous mark reached), to. */
const PHASES: [string, keyof RequestPhases][] = [
  ['read body', 'body_read_ms'],
  ['parse', 'parsed_ms'],
  ['features', 'features_ms'],
  ['admission', 'admitted_ms'],
];

export class OtlpExport implements RequestExporter {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly batches = new Map<string, PendingBatch>();

  constructor(private readonly opts: OtlpExportOptions) {
    const env = opts.env ?? process.env;
    const exporter = new OTLPTraceExporter({ ...(opts.url ? { url: opts.url } : {}) });
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': 'inferscope', 'service.version': opts.serviceVersion }))
      .merge(detectResources({ detectors: [resourceAttributesEnvDetector, serviceNameEnvDetector] }));
    this.provider = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: withWarnings(exporter, opts.warn),
          // The SDK's BatchSpanProcessor no longer reads the OTEL_BSP_* variables: read here.
          scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
          maxQueueSize: envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 16_384),
          maxExportBatchSize: envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
          exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
        }),
      ],
    });
    this.tracer = this.provider.getTracer('inferscope', opts.serviceVersion);
  }

  private lastFault = 0;

  batch(model: string, version: string, event: BatchEvent): void {
    const left = event.requestIds.reduce((n, id) => (id ? n + 1 : n), 0);
    if (left === 0) return;
    this.batches.set(event.id, { model, version, event, left });
    if (this.batches.size > MAX_PENDING_BATCHES) this.batches.delete(this.batches.keys().next().value!);
  }

  /** Called where the answer was written: the export's own failure must never reach the request path. */
  request(r: RequestRecord, t: RequestTrace): void {
    try {
      this.export(r, t);
    } catch (err) {
      if (Date.now() - this.lastFault > 60_000) {
        this.lastFault = Date.now();
        this.opts.warn('OTLP trace export: a request span could not be built', { request: r.id, error: (err as Error)?.message ?? String(err) });
      }
    }
  }

  private export(r: RequestRecord, t: RequestTrace): void {
    const pending = r.batch_id === undefined ? undefined : this.batches.get(r.batch_id);
    if (pending && --pending.left <= 0) this.batches.delete(r.batch_id!);
    const parent = parseTraceparent(t.traceparent);
    if (!this.opts.settings.sample(r.model, parent)) return;

    const start = performance.timeOrigin + t.receivedAt;
    const at = (phase: keyof RequestPhases) => (r.phases[phase] === undefined ? undefined : start + r.phases[phase]!);
    const links: Link[] = [];
    if (pending) links.push({ context: (pending.context ??= this.batchSpan(pending)), attributes: { 'inferscope.batch.id': pending.event.id } });
    const parentContext = parent
      ? otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(`infer ${r.model}`, { kind: SpanKind.SERVER, startTime: start, attributes: requestAttributes(r), links }, parentContext);
    if (r.outcome !== 'success') span.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? r.outcome });

    const inside = otelTrace.setSpan(ROOT_CONTEXT, span);
    const child = (name: string, from: number | undefined, to: number | undefined, attributes?: Attributes) => {
      if (from === undefined || to === undefined) return;
      this.tracer.startSpan(name, { startTime: from, ...(attributes ? { attributes } : {}) }, inside).end(to);
    };
    let previous = start;
    for (const [name, phase] of PHASES) {
      const end = at(phase);
      if (end === undefined) continue;
      child(name, previous, end, name === 'features' && r.entities ? entityAttributes(r.entities) : undefined);
      previous = end;
    }
    child('queue', at('enqueued_ms'), at('dispatched_ms'));
    child('compute', at('compute_start_ms'), at('compute_end_ms'), r.batch_id ? { 'inferscope.batch.id': r.batch_id } : undefined);
    child('respond', at('compute_end_ms'), at('responded_ms'));
    span.end(at('responded_ms') ?? start + r.duration_ms);
  }

  /** Makes (and ends) the batch's span; its context is what request spans link to. */
  private batchSpan(b: PendingBatch): SpanContext {
    const e = b.event;
    const start = performance.timeOrigin + e.dispatchedAt;
    const span: Span = this.tracer.startSpan(
      `batch ${b.model}/${b.version}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: start,
        attributes: {
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
        },
      },
      ROOT_CONTEXT,
    );
    if (!e.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the batch failed to run' });
    span.end(start + (e.inputS + e.inferS + e.outputS) * 1000);
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
    const done = await Promise.race([this.provider.shutdown().then(() => 'sent' as const), late]);
    clearTimeout(timer);
    if (done === 'late') this.opts.warn('OTLP trace export: spans still unsent at shutdown were dropped', { waited_ms: timeoutMs });
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }
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
