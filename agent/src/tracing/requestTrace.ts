// One request's record while it is being served: the phases' times as they happen, what the
// inference path learned (version, canary routing, features, breaker, batch), and at the end its
// outcome. REST and gRPC doors start one per inference request and finish it when the answer is
// written; the recorder keeps the finished records. Times are performance.now() ms, the clock the
// batcher runs on; the record gives them as offsets from when the request was received.
import type { BreakerState, RequestPhases, RequestRecord } from '../../../common/api.js';

let issued = 0;

type Phase = keyof RequestPhases;

export class RequestTrace {
  readonly id = `r${(++issued).toString(36)}`;
  readonly receivedAt: number;
  private readonly epochAt = Date.now();
  private readonly times: Partial<Record<Phase, number>> = {};
  model: string;
  version?: string;
  clientId?: string;
  canaryRouted = false;
  rows?: number;
  entities?: RequestRecord['entities'];
  breaker?: BreakerState;
  batchId?: string;
  /** The instance its batch ran on, of how many (CPU instance pools). */
  instance?: number;
  instanceCount?: number;
  /** The client's W3C traceparent (header or gRPC metadata), read only while OpenTelemetry export is on. */
  traceparent?: string | string[];
  outcome = 'success';
  error?: string;

  constructor(
    readonly protocol: RequestRecord['protocol'],
    model: string,
    version: string | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.receivedAt = now();
    this.model = model;
    if (version !== undefined) this.version = version;
  }

  /** The phase ended now (or at `at`, a time on the same clock). */
  mark(phase: Phase, at = this.now()): void {
    this.times[phase] = at;
  }

  failed(outcome: string, message: string): void {
    this.outcome = outcome;
    this.error = message;
  }

  /** The finished record: the answer was written now with `status`. */
  finish(status: number | string): RequestRecord {
    this.mark('responded_ms');
    // Built field by field, not with spreads: this runs once per request on the hot path.
    const phases: RequestPhases = {};
    for (const phase in this.times) phases[phase as Phase] = round(this.times[phase as Phase]! - this.receivedAt);
    const r: RequestRecord = {
      id: this.id,
      protocol: this.protocol,
      model: this.model,
      canary_routed: this.canaryRouted,
      received_at: this.epochAt,
      duration_ms: phases.responded_ms!,
      phases,
      outcome: this.outcome,
      status,
    };
    if (this.clientId !== undefined) r.client_id = this.clientId;
    if (this.version !== undefined) r.version = this.version;
    if (this.rows !== undefined) r.rows = this.rows;
    if (this.entities) r.entities = this.entities;
    if (this.breaker) r.breaker = this.breaker;
    if (this.batchId) r.batch_id = this.batchId;
    if (this.instance !== undefined) {
      r.instance = this.instance;
      r.instance_count = this.instanceCount!;
    }
    if (this.error !== undefined) r.error = this.error;
    return r;
  }
}

/** Microsecond precision is plenty; it keeps the JSON short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
