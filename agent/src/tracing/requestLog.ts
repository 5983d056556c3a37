// Where finished request records go: the recorder (always), the event stream (a sample: every
// failure, and successes at most `perSecond` a second, so a busy agent does not flood the panel),
// and batch records from every version's batcher; and, when OpenTelemetry export is on, the
// exporter (otelExport.ts), which also gets the request's trace (its times and traceparent).
import type { AgentEvent, RequestRecord } from '../../../common/api.js';
import type { BatchEvent } from '../batching/dynamicBatcher.js';
import type { RequestRecorder } from './requestRecorder.js';
import type { RequestTrace } from './requestTrace.js';

/** Where finished requests and batches are exported besides (OpenTelemetry). */
export interface RequestExporter {
  request(r: RequestRecord, trace: RequestTrace): void;
  batch(model: string, version: string, e: BatchEvent): void;
}

export class RequestLog {
  private windowStart = 0;
  private sentInWindow = 0;
  /** Set when OpenTelemetry export is on; undefined costs the doors nothing more than a check. */
  exporter?: RequestExporter;

  constructor(
    readonly recorder: RequestRecorder,
    private readonly publish: (event: AgentEvent) => void,
    private readonly perSecond = 50,
    private readonly now: () => number = Date.now,
  ) {}

  /** Off when the limits keep nothing and nothing is exported: the doors then make no records at all. */
  get enabled(): boolean {
    return this.recording || this.exporter !== undefined;
  }

  private get recording(): boolean {
    return this.recorder.limits.requests > 0 || this.recorder.limits.failures > 0;
  }

  /** `trace` is the request's trace, for the exporter (its times on the performance clock, its traceparent). */
  record(r: RequestRecord, trace?: RequestTrace): void {
    if (this.exporter && trace) this.exporter.request(r, trace);
    if (!this.recording) return;
    this.recorder.addRequest(r);
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.sentInWindow = 0;
    }
    if (r.outcome !== 'success' || this.sentInWindow < this.perSecond) {
      if (r.outcome === 'success') this.sentInWindow++;
      this.publish({ type: 'request', request: r, at: t });
    }
  }

  /**
   * A batch of `model`/`version` left its queue and ran on `device` ("cpu" or the GPU provider);
   * `e` is on the batcher's clock, performance.now().
   */
  batch(model: string, version: string, e: BatchEvent, device?: string): void {
    this.exporter?.batch(model, version, e);
    if (!this.recording) return;
    this.recorder.addBatch({
      id: e.id,
      model,
      version,
      ...(device ? { device } : {}),
      ...(e.instance !== undefined ? { instance: e.instance, instance_count: e.instances ?? e.instance + 1 } : {}),
      rows: e.rows,
      request_ids: e.requestIds.filter(Boolean),
      reason: e.reason,
      queue_depth: e.queueDepth,
      dispatched_at: Math.round(Date.now() - (performance.now() - e.dispatchedAt)),
      compute_ms: Math.round((e.inputS + e.inferS + e.outputS) * 1e6) / 1000,
      ok: e.ok,
    });
  }
}
