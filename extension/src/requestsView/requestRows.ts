// What the Requests tree shows for the recorded requests: the filter, the sort, which ones are slow
// or failed, and one row each. Pure (no `vscode`).
import type { ModelStatus, RequestRecord } from '../../../common/api.js';
import { nearestRank } from '../../../common/nearestRank.js';
import { formatMs, phaseSegments } from './waterfallModel.js';

/**
 * `outcome: 'failed'` is every outcome but `success`; any other value is one outcome exactly.
 * `since`/`until` (epoch ms, until exclusive): requests received in that window (a second picked on
 * the latency chart); the agent then sends the slowest of the window, not the newest.
 */
export interface RequestFilter {
  model?: string;
  version?: string;
  outcome?: string;
  since?: number;
  until?: number;
}

export type RequestSort = 'time' | 'duration';

export interface RequestRow {
  kind: 'request';
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id and a theme colour id. */
  icon: { id: string; color?: string };
  durationMs: number;
  slow: boolean;
  failed: boolean;
}

/** The most rows the view keeps. */
export const MAX_ROWS = 200;
/** Fewer shown requests than this: no p99 worth the name, nothing is marked slow. */
export const MIN_FOR_SLOW = 20;

export function matches(r: RequestRecord, f: RequestFilter): boolean {
  if (f.model !== undefined && r.model !== f.model) return false;
  if (f.version !== undefined && r.version !== f.version) return false;
  if (f.since !== undefined && r.received_at < f.since) return false;
  if (f.until !== undefined && r.received_at >= f.until) return false;
  if (f.outcome === 'failed') return r.outcome !== 'success';
  return f.outcome === undefined || r.outcome === f.outcome;
}

/** GET /api/v1/requests's query for a filter (`failed` is filtered here, not by the agent). */
export function requestsQuery(f: RequestFilter, limit = MAX_ROWS): string {
  const q = new URLSearchParams();
  if (f.model !== undefined) q.set('model', f.model);
  if (f.version !== undefined) q.set('version', f.version);
  if (f.outcome !== undefined && f.outcome !== 'failed') q.set('outcome', f.outcome);
  if (f.since !== undefined) q.set('since', String(Math.floor(f.since)));
  if (f.until !== undefined) q.set('until', String(Math.ceil(f.until)));
  // A window's slowest, whatever its size: the agent sorts before it applies the limit.
  if (f.since !== undefined || f.until !== undefined) q.set('sort', 'duration');
  // A failed-only view filters here: ask for more, as most recent requests succeed.
  q.set('limit', String(f.outcome === 'failed' ? limit * 10 : limit));
  return q.toString();
}

/**
 * Slow: at or above the p99 of the shown requests' durations and at least twice their median (an
 * even spread marks nothing). Needs MIN_FOR_SLOW requests; Infinity otherwise.
 */
export function slowThresholdMs(records: readonly RequestRecord[]): number {
  if (records.length < MIN_FOR_SLOW) return Infinity;
  const sorted = records.map((r) => r.duration_ms).sort((a, b) => a - b);
  return Math.max(nearestRank(sorted, 0.99), 2 * nearestRank(sorted, 0.5));
}

/** Newest first (or slowest first), at most MAX_ROWS, filtered; duplicates (same id) once. */
export function requestRows(records: readonly RequestRecord[], filter: RequestFilter, sort: RequestSort): RequestRow[] {
  const seen = new Set<string>();
  const shown = records.filter((r) => matches(r, filter) && !seen.has(r.id) && seen.add(r.id));
  shown.sort(sort === 'duration' ? (a, b) => b.duration_ms - a.duration_ms || b.received_at - a.received_at : (a, b) => b.received_at - a.received_at);
  const kept = shown.slice(0, MAX_ROWS);
  const slowMs = slowThresholdMs(kept);
  return kept.map((r) => requestRow(r, r.duration_ms >= slowMs));
}

export function requestRow(r: RequestRecord, slow: boolean): RequestRow {
  const failed = r.outcome !== 'success';
  const time = new Date(r.received_at).toISOString().slice(11, 23);
  const biggest = phaseSegments(r.phases).reduce<{ label: string; durationMs: number } | undefined>((a, s) => (!a || s.durationMs > a.durationMs ? s : a), undefined);
  const lines = [
    `${r.model}${r.version ? ` version ${r.version}` : ''}: ${r.outcome} (${r.status}) in ${formatMs(r.duration_ms)}${slow ? ' — slow (at or above the p99 of the requests shown)' : ''}`,
    `Request ${r.id}${r.client_id !== undefined ? ` (client id ${r.client_id})` : ''}, ${r.protocol === 'grpc' ? 'gRPC' : 'REST'}, at ${new Date(r.received_at).toISOString()}`,
  ];
  if (biggest) lines.push(`Most time: ${biggest.label}, ${formatMs(biggest.durationMs)}`);
  if (r.batch_id) lines.push(`Batch ${r.batch_id}`);
  if (r.error) lines.push(`Error: ${r.error}`);
  return {
    kind: 'request',
    id: r.id,
    label: `${r.model}/${r.version ?? '?'}`,
    description: `${formatMs(r.duration_ms)} · ${r.outcome}${slow ? ' · slow' : ''} · ${time}`,
    tooltip: lines.join('\n'),
    icon: failed ? { id: 'error', color: 'errorForeground' } : slow ? { id: 'watch', color: 'editorWarning.foreground' } : { id: 'pass', color: 'testing.iconPassed' },
    durationMs: r.duration_ms,
    slow,
    failed,
  };
}

/** The view's description: what it is filtered and sorted by. */
export function filterDescription(f: RequestFilter, sort: RequestSort): string {
  const parts: string[] = [];
  if (f.model !== undefined) parts.push(f.version !== undefined ? `${f.model}/${f.version}` : f.model);
  if (f.outcome !== undefined) parts.push(f.outcome);
  if (f.since !== undefined || f.until !== undefined) parts.push(`${f.since !== undefined ? clock(f.since) : '…'}–${f.until !== undefined ? clock(f.until) : 'now'}`);
  if (sort === 'duration') parts.push('slowest first');
  return parts.join(' · ');
}

/** "12:03:04.5" (UTC, as the rows' times): tenths only when the time has them. */
function clock(ms: number): string {
  const text = new Date(ms).toISOString().slice(11, 21);
  return text.endsWith('.0') ? text.slice(0, 8) : text;
}

export interface FilterChoice {
  label: string;
  description?: string;
  /** The filter after choosing it. */
  filter: RequestFilter;
}

/** The quick pick's items: clear, each model and version, failed, and each outcome seen. */
export function filterChoices(current: RequestFilter, models: readonly Pick<ModelStatus, 'name' | 'versions'>[], outcomesSeen: readonly string[]): FilterChoice[] {
  const out: FilterChoice[] = [{ label: 'All requests', description: 'clear the filter', filter: {} }];
  const keepOutcome = current.outcome !== undefined ? { outcome: current.outcome } : {};
  const keepVersion = { ...(current.model !== undefined ? { model: current.model } : {}), ...(current.version !== undefined ? { version: current.version } : {}) };
  for (const m of models) {
    out.push({ label: `Model: ${m.name}`, filter: { model: m.name, ...keepOutcome } });
    for (const v of m.versions) out.push({ label: `Version: ${m.name}/${v.version}`, filter: { model: m.name, version: v.version, ...keepOutcome } });
  }
  out.push({ label: 'Outcome: failed', description: 'every outcome but success', filter: { ...keepVersion, outcome: 'failed' } });
  for (const o of [...new Set(['success', ...outcomesSeen])].sort()) out.push({ label: `Outcome: ${o}`, filter: { ...keepVersion, outcome: o } });
  return out;
}
