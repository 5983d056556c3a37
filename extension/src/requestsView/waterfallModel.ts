// A recorded request as a waterfall: one bar per phase on a common time axis, its batch-mates as
// their own lanes, the batch's compute, the release reason in words, and the facts beside it.
// Pure (no `vscode`): the panel sends the result to its webview, the unit tests check the arithmetic.
import type { BatchRecord, ReleaseReason, RequestPhases, RequestRecord } from '../../../common/api.js';
import type { WaterfallBar, WaterfallLane, WaterfallModel } from '../../../common/waterfallProtocol.js';

/** GET /api/v1/batches/{id}: the batch and the records the agent still holds of its requests. */
export type BatchWithRequests = BatchRecord & { requests: RequestRecord[] };

/** The phases in the order they happen: each ends at its RequestPhases time. */
export const PHASES: readonly { key: keyof RequestPhases; phase: string; label: string }[] = [
  { key: 'body_read_ms', phase: 'body_read', label: 'Body read' },
  { key: 'parsed_ms', phase: 'parsed', label: 'Parse and validate' },
  { key: 'features_ms', phase: 'features', label: 'Features' },
  { key: 'admitted_ms', phase: 'admitted', label: 'Breaker admission' },
  { key: 'enqueued_ms', phase: 'enqueued', label: 'Enqueue' },
  { key: 'dispatched_ms', phase: 'queue', label: 'Queue wait' },
  { key: 'compute_start_ms', phase: 'to_instance', label: 'To the instance' },
  { key: 'compute_end_ms', phase: 'compute', label: 'Compute' },
  { key: 'responded_ms', phase: 'responded', label: 'Response' },
];

export interface PhaseSegment {
  phase: string;
  label: string;
  /** ms from the request's arrival. */
  startMs: number;
  durationMs: number;
}

/**
 * The phases the agent recorded, each from the end of the one before (a phase the request skipped,
 * such as features without entity ids, is left out). Their durations sum to the request's duration.
 */
export function phaseSegments(phases: RequestPhases): PhaseSegment[] {
  const out: PhaseSegment[] = [];
  let at = 0;
  for (const p of PHASES) {
    const end = phases[p.key];
    if (end === undefined) continue;
    out.push({ phase: p.phase, label: p.label, startMs: at, durationMs: Math.max(0, end - at) });
    at = Math.max(at, end);
  }
  return out;
}

const REASONS: Record<ReleaseReason, string> = {
  instance_idle: 'left when an instance became free (no queue delay configured)',
  max_queue_delay: 'left when its oldest request had waited max_queue_delay_ms',
  max_batch_size: 'left when it was full (max_batch_size)',
  preferred_size: 'left on reaching its largest preferred batch size',
  full_to_busy_instance: 'left full, early, for an instance still running the previous batch',
  unbatched: 'ran alone: this version does not batch (max_batch_size 0)',
  bisect: 'ran again as half of a failed batch, to find the request at fault',
};

/** "Batch b12 on instance 2 of 4, cpu: 4 rows from 4 requests; left when an instance became free (…); 3 requests were left waiting." */
export function releaseText(batch: BatchRecord): string {
  const n = batch.request_ids.length;
  const waiting = batch.queue_depth === 0 ? 'no requests were left waiting' : `${batch.queue_depth} ${batch.queue_depth === 1 ? 'request was' : 'requests were'} left waiting`;
  const where = placeText(batch);
  return `Batch ${batch.id}${where ? ` on ${where}` : ''}: ${plural(batch.rows, 'row')} from ${plural(n, 'request')}; ${REASONS[batch.reason] ?? `left: ${batch.reason}`}; ${waiting}.`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** 1, 2 or 5 × 10^k, so that the axis has at most `most` steps (labels fit a narrow editor). */
export function tickStep(axisMs: number, most = 5): number {
  const raw = axisMs / most;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

export function waterfallModel(r: RequestRecord, batch?: BatchWithRequests): WaterfallModel {
  const mates = (batch?.requests ?? []).filter((m) => m.id !== r.id);
  // Arrivals are whole epoch ms, phases are sub-ms offsets on the agent's monotonic clock: every
  // request of a batch was dispatched at the same instant, so a mate is placed by its dispatch
  // (exact), and only without one by its arrival. 0 = this request's arrival.
  const mine = r.phases.dispatched_ms;
  const rel = (x: RequestRecord) => (x === r ? 0 : mine !== undefined && x.phases.dispatched_ms !== undefined ? mine - x.phases.dispatched_ms : x.received_at - r.received_at);
  const batchAt = batch ? (r.phases.compute_start_ms ?? mine ?? batch.dispatched_at - r.received_at) : 0;
  const everyone = [r, ...mates];
  const origin = Math.min(...everyone.map(rel));
  let end = Math.max(...everyone.map((x) => rel(x) + x.duration_ms));
  if (batch) end = Math.max(end, batchAt + batch.compute_ms);
  const axisMs = Math.max(end - origin, 0.001);
  const bar = (phase: string, label: string, startMs: number, durationMs: number, who: string): WaterfallBar => ({
    phase,
    label,
    startMs,
    durationMs,
    leftPct: clampPct((startMs / axisMs) * 100),
    widthPct: clampPct((durationMs / axisMs) * 100),
    aria: `${who}${label}: ${formatMs(durationMs)}, from ${formatMs(startMs)} to ${formatMs(startMs + durationMs)}`,
  });
  const phaseBars = (x: RequestRecord, who: string) => phaseSegments(x.phases).map((s) => bar(s.phase, s.label, rel(x) - origin + s.startMs, s.durationMs, who));
  const lanes: WaterfallLane[] = [{ kind: 'request', id: r.id, label: `${r.id} (this request)`, bars: phaseBars(r, ''), failed: r.outcome !== 'success' }];
  if (batch) {
    lanes.push({
      kind: 'batch',
      id: batch.id,
      label: `batch ${batch.id}`,
      bars: [bar('compute', 'Batch compute', batchAt - origin, batch.compute_ms, `Batch ${batch.id}, `)],
      failed: !batch.ok,
    });
  }
  for (const m of [...mates].sort((a, b) => rel(a) - rel(b) || a.id.localeCompare(b.id))) {
    lanes.push({ kind: 'mate', id: m.id, label: `${m.id} · ${formatMs(m.duration_ms)}`, bars: phaseBars(m, `Batch-mate ${m.id}, `), failed: m.outcome !== 'success' });
  }
  const tickMs = tickStep(axisMs);
  const ticks: WaterfallModel['ticks'] = [];
  for (let t = 0; t <= axisMs + 1e-9; t += tickMs) ticks.push({ ms: t, pct: clampPct((t / axisMs) * 100), label: formatMs(t) });
  return {
    requestId: r.id,
    title: `${r.model}${r.version ? `/${r.version}` : ''} · ${r.id} · ${formatMs(r.duration_ms)}`,
    axisMs,
    ticks,
    lanes,
    facts: facts(r, batch),
    batchText: batch ? releaseText(batch) : null,
    batch: batch ? { id: batch.id, rows: batch.rows, requests: batch.request_ids.length, mates: mates.length } : null,
    error: r.error ?? null,
  };
}

function facts(r: RequestRecord, batch: BatchWithRequests | undefined): { label: string; value: string }[] {
  const out: { label: string; value: string }[] = [
    { label: 'Outcome', value: `${r.outcome} (${r.protocol === 'grpc' ? 'gRPC' : 'HTTP'} ${r.status})` },
    { label: 'Model', value: `${r.model}${r.version ? ` version ${r.version}` : ''}${r.canary_routed ? ' (chosen by the canary split)' : ''}` },
    { label: 'Received', value: new Date(r.received_at).toISOString() },
    { label: 'Duration', value: formatMs(r.duration_ms) },
  ];
  if (r.client_id !== undefined) out.push({ label: 'Client id', value: r.client_id });
  if (r.rows !== undefined) out.push({ label: 'Rows', value: String(r.rows) });
  if (r.entities) {
    const e = r.entities;
    out.push({ label: 'Entity cache', value: `${plural(e.count, 'id')}: ${e.hits} ${e.hits === 1 ? 'hit' : 'hits'}, ${e.misses} ${e.misses === 1 ? 'miss' : 'misses'}, ${e.stale} stale, ${e.negative} negative` });
  }
  out.push({ label: 'Breaker', value: r.breaker ? r.breaker.replace('_', '-') : 'not reached' });
  if (batch) out.push({ label: 'Batch', value: `${batch.id}: ${plural(batch.rows, 'row')}, compute ${formatMs(batch.compute_ms)}${batch.ok ? '' : ', failed'}` });
  else if (r.batch_id) out.push({ label: 'Batch', value: `${r.batch_id} (no longer held by the agent)` });
  // The request's own record says the instance even when its batch is no longer held.
  const where = placeText({ ...(batch?.device !== undefined ? { device: batch.device } : {}), ...(r.instance !== undefined ? { instance: r.instance, instance_count: r.instance_count } : batch) });
  if (where) out.push({ label: 'Ran on', value: where });
  return out;
}

/**
 * "instance 2 of 4, cpu" (the agent numbers instances from 0; people count from 1), or just the
 * device where the pool does not number its instances (a GPU session); '' when neither is known.
 */
export function placeText(b: Pick<BatchRecord, 'device' | 'instance' | 'instance_count'>): string {
  const instance = b.instance !== undefined ? `instance ${b.instance + 1} of ${b.instance_count ?? b.instance + 1}` : '';
  return [instance, b.device ?? ''].filter(Boolean).join(', ');
}

function clampPct(x: number): number {
  return Math.round(Math.min(100, Math.max(0, x)) * 1000) / 1000;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
