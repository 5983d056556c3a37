// What a canary's last check could see, as lines for the panel. Pure (no DOM), so tests run it.
import type { CanaryCheck } from '../../../common/api.js';

/** What the last check could see, per metric: "latency: can detect +9% latency now · about 6 more checks at 33 req/s …". */
export function sightLines(check: CanaryCheck | undefined): string[] {
  if (!check) return [];
  const lines: string[] = [];
  for (const m of check.metrics) {
    const ev = m.evidence;
    if (!ev || (!ev.mde && !ev.eta)) continue;
    lines.push(`${m.name}: ${[ev.mde?.text, ev.eta?.text].filter(Boolean).join(' · ')}`);
  }
  return lines;
}
