// Where finished request records go: the recorder (always), the event stream (a sample: every
// failure, and successes at most `perSecond` a second, so a busy agent does not flood the panel),
// and batch records from every version's batcher.
import type { AgentEvent, RequestRecord } from '../../../common/api.js';
import type { BatchEvent } from '../batching/dynamicBatcher.js';
import type { RequestRecorder } from './requestRecorder.js';

export class RequestLog {
  private windowStart = 0;
  private sentInWindow = 0;

  constructor(
    readonly recorder: RequestRecorder,
    private readonly publish: (event: AgentEvent) => void,
    private readonly perSecond = 50,
    private readonly now: () => number = Date.now,
  ) {}

  /** Off when the limits keep nothing: the doors then make no records at all. */
  get enabled(): boolean {
    return this.recorder.limits.requests > 0 || this.recorder.limits.failures > 0;
  }

  record(r: RequestRecord): void {
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

  /** A batch of `model`/`version` left its queue and ran (`e` on the batcher's clock, performance.now()). */
  batch(model: string, version: string, e: BatchEvent): void {
    this.recorder.addBatch({
      id: e.id,
      model,
      version,
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
