// A canary as a readable Markdown report: the decision, the plan, and every check with every
// metric's values, statistic and verdict, and its evidence ledger (tests, e-values, always-valid
// p-values, levels, effects with intervals, what the check could see and when it will see enough),
// a chart per metric of its evidence over the checks against the bar each test must reach, and the
// recorded evidence re-judged at other alphas (when the agent could be asked). Pure (no `vscode`).
import type { Canary, CanaryCheck, CanaryMetricResult, CanaryRejudgement } from '../../../common/api.js';
import { evidenceChartSvg, evidenceSeries } from './evidenceChart.js';
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

/** The alphas the report re-judges a canary at (besides its own). */
export const REJUDGE_ALPHAS = [0.01, 0.05, 0.1];

export function canaryReport(c: Canary, rejudged?: CanaryRejudgement[]): string {
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
  out.push(`| Samples from | ${c.source.kind === 'prometheus' ? `Prometheus at ${c.source.url}${c.source.anchor ? ` (checks on the fleet's grid from ${c.source.anchor})` : ''}` : 'this agent'} |`, '');
  out.push(...evidenceSection(c));
  if (rejudged?.length) out.push(...rejudgeSection(c, rejudged));
  out.push(`## Checks (${c.checks.length})`, '');
  if (c.checks.length === 0) out.push('No check has run yet.');
  c.checks.forEach((check, i) => out.push(...checkSection(check, i + 1, c.started_at)));
  return `${out.join('\n')}\n`;
}

/** Per metric, its tests' evidence over the checks against their bars (inline SVG, one HTML block each). */
function evidenceSection(c: Canary): string[] {
  const metrics = evidenceSeries(c.checks);
  if (metrics.length === 0) return [];
  const anytime = metrics.some((m) => m.kind === 'e');
  const lines = [
    '## Evidence over time',
    '',
    anytime
      ? 'Each test\'s evidence against "no regression" at every check, as ln e of its e-process; the dashed line is ln(1/α) of the test\'s level, where it fails (whatever the number of looks). A metric fails when a test crosses and the effect is past its margin; a red dotted line marks a check where it failed.'
      : 'Each test\'s evidence against "no regression" at every check, as ln(1/p); the dashed line is ln(1/α) of the level of each look. A metric fails when a test crosses and the effect is past its margin; a red dotted line marks a check where it failed.',
    '',
  ];
  for (const m of metrics) lines.push(`**${m.metric}**`, '', `<div>${evidenceChartSvg(m, c.checks.length)}</div>`, '');
  return lines;
}

/** What the recorded evidence decides at other alphas (the agent's /rejudge), without rerunning. */
function rejudgeSection(c: Canary, rejudged: CanaryRejudgement[]): string[] {
  const lines = ['## Re-judged at other alphas', '', 'The same recorded evidence judged again at another α: what a canary at that α would have decided on this traffic, up to where the record ends.', '', '| α | decision | at check | reason |', '|---|---|---|---|'];
  for (const r of [...rejudged].sort((a, b) => a.alpha - b.alpha)) {
    const own = r.alpha === c.thresholds.alpha ? ' (this canary\'s)' : '';
    lines.push(`| ${r.alpha}${own} | ${r.decision} | ${r.at_check ?? '–'} | ${r.reason.replace(/\|/g, '\\|')} |`);
  }
  lines.push('');
  return lines;
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

/** While the canary goes on: no traffic, or the metric that needs the most checks to see what counts: what it can see now, and when it will see enough. */
function waitText(check: CanaryCheck): string {
  if (check.decision === 'rollback' || check.decision === 'promote') return '';
  const etas = check.metrics.filter((m) => m.evidence?.eta).map((m) => ({ name: m.name, eta: m.evidence!.eta!, mde: m.evidence!.mde }));
  const idle = etas.find((e) => e.eta.requests_per_s === 0);
  if (idle) return ` · ${idle.eta.text}`;
  const waiting = etas.filter((e) => e.eta.checks !== 0).sort((a, b) => (b.eta.checks ?? Infinity) - (a.eta.checks ?? Infinity))[0];
  return waiting ? ` · ${waiting.name}: ${waiting.mde ? `${waiting.mde.text}; ` : ''}${waiting.eta.text}` : '';
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(2) : v.toPrecision(3);
}
