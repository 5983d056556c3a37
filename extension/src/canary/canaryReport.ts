// A canary as a readable Markdown report: the decision, the plan, and every check with every
// metric's values, statistic and verdict, and its evidence ledger (tests, e-values, always-valid
// p-values, levels, effects with intervals, what the check could see and when it will see enough).
// Pure (no `vscode`).
import type { Canary, CanaryCheck, CanaryMetricResult } from '../../../common/api.js';
import { localDateTime, localTime } from './localTime.js';

const VERDICT: Record<CanaryMetricResult['verdict'], string> = { pass: '✅ pass', fail: '❌ fail', inconclusive: '⚪ inconclusive' };

export function decisionText(c: Omit<Canary, 'checks'>): string {
  switch (c.state) {
    case 'promoted':
      return `promoted version ${c.candidate}`;
    case 'rolled_back':
      return `rolled back to version ${c.baseline}`;
    case 'aborted':
      return 'aborted; traffic back on the baseline';
    case 'running':
      return `running at ${c.weight}% (step ${c.step + 1} of ${c.steps.length})`;
  }
}

export function canaryReport(c: Canary): string {
  const out: string[] = [];
  out.push(`# Canary ${c.id}: ${c.model} ${c.baseline} → ${c.candidate}`, '');
  out.push(`**Decision:** ${decisionText(c)}${c.reason ? ` (${c.reason})` : ''}`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Started | ${localDateTime(c.started_at)} (local time) |`);
  out.push(`| Ended | ${c.ended_at ? localTime(c.ended_at, c.started_at) : 'still running'} |`);
  out.push(`| Steps (candidate weight %) | ${c.steps.join(', ')} |`);
  out.push(`| Check interval | ${c.interval_s} s, ${c.checks_per_step} check(s) per step |`);
  out.push(`| Method | ${c.method ?? 'bonferroni'}${c.open_ended ? ', open-ended (each step held until the smallest regression that counts is visible)' : ''} |`);
  out.push(
    c.alpha_per_test !== null
      ? `| Significance | α ${c.thresholds.alpha} over the whole canary, ${fmt(c.alpha_per_test)} per test and check |`
      : `| Significance | α ${c.thresholds.alpha} over the whole canary, at every look: ${Object.entries(c.alpha_levels ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} |`,
  );
  out.push(`| Critical metrics | ${c.thresholds.critical.join(', ')} |`);
  out.push(`| Samples from | ${c.source.kind === 'prometheus' ? `Prometheus at ${c.source.url}` : 'this agent'} |`, '');
  out.push(`## Checks (${c.checks.length})`, '');
  if (c.checks.length === 0) out.push('No check has run yet.');
  c.checks.forEach((check, i) => out.push(...checkSection(check, i + 1, c.started_at)));
  return `${out.join('\n')}\n`;
}

function checkSection(check: CanaryCheck, n: number, startedAt: string): string[] {
  const lines = [
    `### ${n}. ${localTime(check.at, startedAt)}: step ${check.step + 1} at ${check.weight}% → ${check.decision.replace('_', ' ')}`,
    '',
    `Samples: baseline ${check.samples.baseline}, candidate ${check.samples.candidate}.`,
    '',
    '| metric | baseline | candidate | statistic | p-value | verdict | reason |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const m of check.metrics) {
    lines.push(`| ${m.name} | ${fmt(m.baseline)} | ${fmt(m.candidate)} | ${fmt(m.statistic)} | ${fmt(m.p_value)} | ${VERDICT[m.verdict]} | ${m.reason.replace(/\|/g, '\\|')} |`);
  }
  lines.push('');
  const ledger = ledgerRows(check);
  if (ledger.length) {
    lines.push('Evidence ledger:', '', '| metric | test | n baseline / candidate | statistic | e-value | p (always-valid) | level α | α spent | effect [interval] | can see now | to see what counts |', '|---|---|---|---|---|---|---|---|---|---|---|');
    lines.push(...ledger.map((r) => `| ${r.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`), '');
  }
  return lines;
}

/** The ledger of one check as table rows (one per test; a metric without a test gets one row saying why). */
export function ledgerRows(check: CanaryCheck): string[][] {
  const rows: string[][] = [];
  for (const m of check.metrics) {
    const ev = m.evidence;
    if (!ev) continue;
    const effect = ev.effect ? `${ev.effect.unit} ${fmt(ev.effect.estimate)}${ev.effect.low !== null && ev.effect.high !== null ? ` [${fmt(ev.effect.low)}, ${fmt(ev.effect.high)}]` : ''}` : '–';
    const n = `${ev.n.baseline} / ${ev.n.candidate}`;
    const see = ev.mde?.text ?? '–';
    const eta = ev.eta?.text ?? '–';
    if (ev.tests.length === 0) {
      rows.push([m.name, GATE[ev.gate], n, '–', '–', '–', '–', '–', effect, see, eta]);
      continue;
    }
    for (const t of ev.tests) {
      rows.push([m.name, t.name, n, fmt(t.statistic), t.e_value === null ? '–' : fmt(t.e_value), fmt(t.p_value), fmt(t.alpha), t.alpha_spent === null ? '–' : fmt(t.alpha_spent), effect, see, eta]);
    }
  }
  return rows;
}

const GATE = { ok: 'no test', too_few: 'too few samples', no_baseline: 'no baseline traffic (100 %)', not_classifier: 'not a classifier' } as const;

/** One line for progress notifications: each metric's verdict. */
export function checkLine(check: CanaryCheck): string {
  const verdicts = check.metrics.map((m) => `${m.name} ${m.verdict === 'pass' ? '✓' : m.verdict === 'fail' ? '✗' : '?'}`).join(', ');
  return `${check.weight}%: ${verdicts} → ${check.decision.replace('_', ' ')}${waitText(check)}`;
}

/** While the canary goes on: no traffic, or the metric that needs the most checks to see what counts. */
function waitText(check: CanaryCheck): string {
  if (check.decision === 'rollback' || check.decision === 'promote') return '';
  const etas = check.metrics.filter((m) => m.evidence?.eta).map((m) => ({ name: m.name, eta: m.evidence!.eta! }));
  const idle = etas.find((e) => e.eta.requests_per_s === 0);
  if (idle) return ` · ${idle.eta.text}`;
  const waiting = etas.filter((e) => e.eta.checks !== 0).sort((a, b) => (b.eta.checks ?? Infinity) - (a.eta.checks ?? Infinity))[0];
  return waiting ? ` · ${waiting.name}: ${waiting.eta.text}` : '';
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(2) : v.toPrecision(3);
}
