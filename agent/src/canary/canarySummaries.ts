// Canaries as the status, the list and the event stream show them: without the full list of
// checks, so what is sent every second (the status) or on every check (events) stays small however
// long a canary runs and however many ran before. GET /api/v1/canaries/{id} has every check.
import type { Canary, CanaryCheck, CanaryHead, CanarySummary } from '../../../common/api.js';

/** Checks a summary carries: what the panel's timeline shows. */
export const RECENT_CHECKS = 12;
/** Ended canaries the status lists (besides the running ones). */
export const STATUS_ENDED = 20;
/** How long an ended canary stays in the status. */
export const STATUS_ENDED_MS = 3_600_000;

export function headOf(c: Canary): CanaryHead {
  const { checks, ...head } = c;
  return { ...head, check_count: checks.length };
}

/**
 * Only the last check keeps its evidence (the ledger rows, with what the check could see): that is
 * what the panel shows, and twelve checks' ledgers every second would be most of the status.
 */
export function summaryOf(c: Canary, withChecks: boolean): CanarySummary {
  const recent = withChecks ? c.checks.slice(-RECENT_CHECKS) : [];
  return { ...headOf(c), recent_checks: recent.map((k, i) => (i === recent.length - 1 ? k : withoutEvidence(k))) };
}

function withoutEvidence(k: CanaryCheck): CanaryCheck {
  return { ...k, metrics: k.metrics.map(({ evidence: _, ...m }) => m) };
}

/**
 * The status's canaries, in start order: the running ones and the STATUS_ENDED that ended last
 * within the hour. Recent checks only for running canaries and each model's latest: those are what
 * a view shows, and 20 × 12 checks every second to every stream would be most of the status.
 */
export function statusCanaries(all: readonly Canary[], nowMs: number): CanarySummary[] {
  const ended = all
    .filter((c) => c.state !== 'running' && nowMs - Date.parse(c.ended_at ?? '') < STATUS_ENDED_MS)
    .sort((a, b) => Date.parse(b.ended_at!) - Date.parse(a.ended_at!))
    .slice(0, STATUS_ENDED);
  const shown = new Set(ended);
  const listed = all.filter((c) => c.state === 'running' || shown.has(c));
  const latest = new Map<string, Canary>(); // by model; start order, so the last one wins
  for (const c of listed) latest.set(c.model, c);
  return listed.map((c) => summaryOf(c, c.state === 'running' || latest.get(c.model) === c));
}
