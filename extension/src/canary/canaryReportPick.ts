// Show Canary Report…: the quick pick's items (newest first, local times, a label per canary that
// no other canary in the list shares) and the report's readable tab name. Pure (no `vscode`).
import type { Canary } from '../../../common/api.js';
import { decisionText } from './canaryReport.js';
import { localTime } from './localTime.js';

export { localTime };

export const REPORT_PICK_TITLE = 'Inferscope: Show Canary Report';

type CanaryLike = Pick<Canary, 'id' | 'model' | 'baseline' | 'candidate' | 'started_at' | 'ended_at' | 'state' | 'weight' | 'step' | 'steps'>;

/** `digits 1 → 2`. */
export function canaryName(c: Pick<Canary, 'model' | 'baseline' | 'candidate'>): string {
  return `${c.model} ${c.baseline} → ${c.candidate}`;
}

export interface ReportPickItem {
  label: string;
  description: string;
  detail: string;
  id: string;
}

/**
 * Newest first. The label is the canary's name and its local start time; when two canaries of the
 * same versions started in the same second, the later ones get `#2`, `#3`… so no two labels match.
 */
export function reportPickItems(canaries: readonly CanaryLike[], now: Date = new Date()): ReportPickItem[] {
  const sorted = [...canaries].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at) || b.id.localeCompare(a.id));
  const seen = new Map<string, number>();
  // Count from the oldest so a label never changes as newer canaries arrive.
  const labels = new Map<string, string>();
  for (const c of [...sorted].reverse()) {
    const base = `${canaryName(c)} · ${localTime(c.started_at, now)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    labels.set(c.id, n === 1 ? base : `${base} #${n}`);
  }
  return sorted.map((c) => ({
    label: labels.get(c.id)!,
    description: decisionText(c as Omit<Canary, 'checks'>),
    detail: `started ${localTime(c.started_at, now)}${c.ended_at ? `, ended ${localTime(c.ended_at, now)}` : ', still running'} · ${c.id}`,
    id: c.id,
  }));
}

/**
 * The report document's file name, which its editor tab (and the Markdown preview's) shows:
 * `Canary digits 1 → 2, 14.02.13.md` (the local start time, dots instead of colons so the name is a
 * file name everywhere).
 */
export function reportFileName(c: Pick<Canary, 'model' | 'baseline' | 'candidate' | 'started_at'>, now: Date = new Date()): string {
  const name = `Canary ${canaryName(c)}, ${localTime(c.started_at, now).replace(/:/g, '.')}`;
  return `${name.replace(/[/\\?#%*"<>|]/g, '_')}.md`;
}
