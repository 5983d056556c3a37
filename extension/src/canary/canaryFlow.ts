// The pure parts of Evaluate Canary…: the flow's titles, weight steps typed by the user or read from
// the settings (checked before anything is sent, with the setting's name in the error), a candidate
// older than the default (asked about, never silent), the threshold presets and "Edit thresholds…",
// and what the progress and the last notification say (no traffic, the agent stopped, the outcome
// with its reason once). No `vscode`, so unit tests run it.
import type { Canary, CanaryCheck, CanaryThresholds } from '../../../common/api.js';

export const FLOW_STEPS = 4;

/** "Evaluate Canary (1/4)", then "… (2/4): digits", then "… (3/4): digits 1 → 2". */
export function flowTitle(step: number, sel: { model?: string; baseline?: string; candidate?: string } = {}): string {
  const what = sel.model ? `: ${sel.model}${sel.baseline && sel.candidate ? ` ${sel.baseline} → ${sel.candidate}` : ''}` : '';
  return `Evaluate Canary (${step}/${FLOW_STEPS})${what}`;
}

/** Why these weights cannot be a canary's steps (the agent's own rules), or undefined. */
export function stepsProblem(steps: readonly unknown[]): string | undefined {
  if (steps.length === 0) return 'expected at least one weight';
  if (steps.length > 20) return `expected at most 20 weights, got ${steps.length}`;
  const bad = steps.find((w) => typeof w !== 'number' || !Number.isFinite(w) || w <= 0 || w > 100);
  if (bad !== undefined) return `expected weights in (0, 100] %, got ${JSON.stringify(bad)}`;
  const nums = steps as number[];
  const i = nums.findIndex((w, k) => k > 0 && w <= nums[k - 1]!);
  if (i > 0) return `expected increasing weights, got ${nums[i - 1]} then ${nums[i]}`;
  return undefined;
}

/** Steps typed in the picker: "10,50,100", "10 50 100" or "10%, 50%, 100%". */
export function parseSteps(text: string): { steps: number[] } | { error: string } {
  const parts = text.split(/[\s,;]+/).map((p) => p.replace(/%$/, '')).filter((p) => p !== '');
  if (parts.length === 0) return { error: 'type weights in %, e.g. 10,50,100' };
  const nan = parts.find((p) => !/^\d+(\.\d+)?$/.test(p));
  if (nan !== undefined) return { error: `"${nan}" is not a weight in %; type e.g. 10,50,100` };
  const steps = parts.map(Number);
  const problem = stepsProblem(steps);
  return problem ? { error: problem } : { steps };
}

export interface CanarySettings {
  steps: unknown;
  intervalSeconds: unknown;
  checksPerStep: unknown;
  alpha: unknown;
}

/** What is wrong with the inferscope.canary.* settings, one line per setting, naming it. */
export function settingsProblems(c: CanarySettings): string[] {
  const out: string[] = [];
  const steps = Array.isArray(c.steps) ? stepsProblem(c.steps) : 'expected an array of weights in %';
  if (steps) out.push(`setting inferscope.canary.steps (${JSON.stringify(c.steps)}): ${steps}`);
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!num(c.intervalSeconds) || (c.intervalSeconds as number) < 0.05 || (c.intervalSeconds as number) > 86_400) {
    out.push(`setting inferscope.canary.intervalSeconds (${JSON.stringify(c.intervalSeconds)}): expected seconds from 0.05 to 86400`);
  }
  if (!Number.isInteger(c.checksPerStep) || (c.checksPerStep as number) < 1 || (c.checksPerStep as number) > 1000) {
    out.push(`setting inferscope.canary.checksPerStep (${JSON.stringify(c.checksPerStep)}): expected a whole number from 1 to 1000`);
  }
  if (!num(c.alpha) || (c.alpha as number) <= 0 || (c.alpha as number) > 0.5) {
    out.push(`setting inferscope.canary.alpha (${JSON.stringify(c.alpha)}): expected a probability in (0, 0.5]`);
  }
  return out;
}

/** A candidate version below the baseline (versions are folder numbers). */
export function isDowngrade(candidate: string, baseline: string): boolean {
  return /^\d+$/.test(candidate) && /^\d+$/.test(baseline) && Number(candidate) < Number(baseline);
}

export function downgradeQuestion(candidate: string, baseline: string): string {
  return `Candidate ${candidate} is older than the default ${baseline} — evaluate anyway?`;
}

export const EVALUATE_ANYWAY = 'Evaluate Anyway';

export interface ThresholdPreset {
  id: 'default' | 'quick' | 'strict' | 'lenient';
  label: string;
  detail: string;
  thresholds: Partial<CanaryThresholds>;
}

export const THRESHOLD_PRESETS: readonly ThresholdPreset[] = [
  { id: 'default', label: 'Default thresholds', detail: "the agent's defaults: 50 samples per version, p99 at most 1.5× the baseline's", thresholds: {} },
  { id: 'quick', label: 'Quick (demo traffic)', detail: '10 samples per version before a metric can decide', thresholds: { min_samples: 10 } },
  { id: 'strict', label: 'Strict', detail: 'p99 at most 1.2× the baseline, error rate at most 1.1×, P(slower) margin 0.03', thresholds: { max_p99_ratio: 1.2, min_error_ratio: 1.1, latency_effect_margin: 0.03 } },
  { id: 'lenient', label: 'Lenient', detail: 'p99 up to 2× the baseline, error rate up to 2×, P(slower) margin 0.1', thresholds: { max_p99_ratio: 2, min_error_ratio: 2, latency_effect_margin: 0.1 } },
];

/** The numeric thresholds "Edit thresholds…" takes, with their ranges (the agent's). */
const EDITABLE: Record<string, { min: number; max: number; minOpen?: boolean; int?: boolean }> = {
  alpha: { min: 0, max: 0.5, minOpen: true },
  max_error_rate: { min: 0, max: 1, minOpen: true },
  min_error_ratio: { min: 1, max: Infinity },
  max_p99_ms: { min: 0, max: Infinity, minOpen: true },
  max_p99_ratio: { min: 1, max: Infinity },
  latency_effect_margin: { min: 0, max: 0.5 },
  confidence_effect_margin: { min: 0, max: 0.5 },
  min_cramers_v: { min: 0, max: 1 },
  min_samples: { min: 5, max: Infinity, int: true },
  max_inconclusive_checks: { min: 0, max: 1000, int: true },
};

/** "min_samples=10, max_p99_ratio=2" → thresholds; unknown names and out-of-range values are errors. */
export function parseThresholdEdits(text: string): { thresholds: Partial<CanaryThresholds> } | { error: string } {
  const out: Record<string, number> = {};
  for (const part of text.split(/[,;\n]+/).map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_0-9]+)\s*[=:]\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)$/i.exec(part);
    if (!m) return { error: `"${part}": expected name=value, e.g. min_samples=10` };
    const [, name, raw] = m as unknown as [string, string, string];
    const range = EDITABLE[name];
    if (!range) return { error: `unknown threshold "${name}"; one of ${Object.keys(EDITABLE).join(', ')}` };
    const v = Number(raw);
    if ((range.int && !Number.isInteger(v)) || v < range.min || (range.minOpen && v === range.min) || v > range.max) {
      return { error: `${name}: expected ${range.int ? 'a whole number' : 'a number'} ${range.minOpen ? 'above' : 'from'} ${range.min}${Number.isFinite(range.max) ? ` to ${range.max}` : ''}, got ${raw}` };
    }
    out[name] = v;
  }
  if (Object.keys(out).length === 0) return { error: 'type name=value pairs, e.g. min_samples=10, max_p99_ratio=2' };
  return { thresholds: out as Partial<CanaryThresholds> };
}

/**
 * The check saw no requests since the one before: the agent's ledger says so (an ETA at 0 req/s;
 * the error rate's counts every request, latency's only successful ones); from an agent without a
 * ledger, nothing judged and no samples at all.
 */
export function noTraffic(check: CanaryCheck): boolean {
  const errors = check.metrics.find((m) => m.name === 'error_rate')?.evidence?.eta;
  if (errors) return errors.requests_per_s === 0;
  const etas = check.metrics.map((m) => m.evidence?.eta).filter((e) => e);
  if (etas.length > 0) return etas.every((e) => e!.requests_per_s === 0);
  return check.samples.baseline + check.samples.candidate === 0 && check.metrics.every((m) => m.verdict !== 'fail');
}

export const SEND_TEST_TRAFFIC = 'Send Test Traffic';

export function noTrafficText(c: Pick<Canary, 'model' | 'baseline' | 'candidate'>): string {
  return `Canary ${c.model} ${c.baseline} → ${c.candidate}: no requests in the last check — send test traffic?`;
}

/** The progress line for a check with no traffic (the verdicts say nothing then). */
export function noTrafficProgress(check: CanaryCheck): string {
  return `${check.weight}%: no requests in the last check — the canary cannot decide without traffic`;
}

const BACK_ON_BASELINE = /[;,]?\s*(all )?traffic (is )?back on the baseline\.?$/i;

/**
 * The one notification at the end: the decision with its reason, said once (the agent's reason for
 * an abort or a restart already ends in "traffic back on the baseline", which the headline says).
 */
export function outcomeText(c: Omit<Canary, 'checks'>): string {
  const head = `Canary ${c.model} ${c.baseline} → ${c.candidate}`;
  const reason = (c.reason ?? '').replace(BACK_ON_BASELINE, '').replace(/\.$/, '').trim();
  switch (c.state) {
    case 'promoted':
      return `${head}: promoted; version ${c.candidate} is now the default${reason ? ` (${reason})` : ''}.`;
    case 'rolled_back':
      return `${head}: rolled back; all traffic is back on version ${c.baseline}${reason ? ` — ${reason}` : ''}.`;
    case 'aborted':
      return `${head}: aborted; all traffic is back on version ${c.baseline}.`;
    case 'running':
      return `${head}: still running at ${c.weight}%.`;
  }
}

/** The agent stopped (or went away) while the canary ran: what became of it. */
export function agentStoppedText(c: Omit<Canary, 'checks'> & { checks?: unknown[]; check_count?: number }, stoppedBy: 'stopped' | 'lost'): string {
  const checks = c.checks?.length ?? c.check_count ?? 0;
  const where = `at ${c.weight}% (step ${c.step + 1} of ${c.steps.length}, ${checks} check${checks === 1 ? '' : 's'})`;
  return stoppedBy === 'stopped'
    ? `Canary ${c.model} ${c.baseline} → ${c.candidate} ended undecided ${where}: the agent stopped. Its samples were in memory, so when the agent starts again it records the canary as rolled back and version ${c.baseline} serves all traffic.`
    : `Canary ${c.model} ${c.baseline} → ${c.candidate}: lost contact with the agent ${where}. If the agent is still running the canary goes on there (Show Canary Report); if it restarts, the canary is rolled back to version ${c.baseline}.`;
}
