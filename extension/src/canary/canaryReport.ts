// A canary as a readable Markdown report: the decision, the plan, and every check with every
// metric's values, statistic and verdict. Pure (no `vscode`).
import type { Canary, CanaryCheck, CanaryMetricResult } from '../../../common/api.js';

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
  out.push(`| Started | ${c.started_at} |`);
  out.push(`| Ended | ${c.ended_at ?? 'still running'} |`);
  out.push(`| Steps (candidate weight %) | ${c.steps.join(', ')} |`);
  out.push(`| Check interval | ${c.interval_s} s, ${c.checks_per_step} check(s) per step |`);
  out.push(`| Significance | α ${c.thresholds.alpha} over the whole canary, ${fmt(c.alpha_per_test)} per test |`);
  out.push(`| Critical metrics | ${c.thresholds.critical.join(', ')} |`);
  out.push(`| Samples from | ${c.source.kind === 'prometheus' ? `Prometheus at ${c.source.url}` : 'this agent'} |`, '');
  out.push(`## Checks (${c.checks.length})`, '');
  if (c.checks.length === 0) out.push('No check has run yet.');
  c.checks.forEach((check, i) => out.push(...checkSection(check, i + 1)));
  return `${out.join('\n')}\n`;
}

function checkSection(check: CanaryCheck, n: number): string[] {
  const lines = [
    `### ${n}. ${check.at}: step ${check.step + 1} at ${check.weight}% → ${check.decision.replace('_', ' ')}`,
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
  return lines;
}

/** One line for progress notifications: each metric's verdict. */
export function checkLine(check: CanaryCheck): string {
  const verdicts = check.metrics.map((m) => `${m.name} ${m.verdict === 'pass' ? '✓' : m.verdict === 'fail' ? '✗' : '?'}`).join(', ');
  return `${check.weight}%: ${verdicts} → ${check.decision.replace('_', ' ')}`;
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(2) : v.toPrecision(3);
}
