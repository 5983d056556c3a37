// The report's evidence charts: per metric, each test's evidence at every check against the bar it
// must reach to fail, as inline SVG (no script, no external resource: it renders under the Markdown
// preview's CSP; colours from the theme's --vscode-* variables, with fallbacks for other viewers).
// Evidence is ln e (anytime: the e-process fails the test once e ≥ 1/α, i.e. ln e ≥ ln(1/α)) or
// ln(1/p) (bonferroni: fails once p < α); either way the bar is ln(1/α) of the test's level, so a
// line crossing its dashed bar is the test rejecting "no regression". A metric also needs its
// effect past the margin to fail (canaryAnalysis `judge`); the checks whose verdict was fail are
// marked. Pure (no `vscode`): geometry first (tests check it), then the SVG text.
import type { CanaryCheck, CanaryMetricName, CanaryTestEvidence } from '../../../common/api.js';

export interface EvidencePoint {
  /** 1-based check number. */
  check: number;
  /** ln e or ln(1/p). */
  value: number;
}

export interface EvidenceSeries {
  test: CanaryTestEvidence['name'];
  level: number;
  /** ln(1/level): the line the evidence must reach. */
  bar: number;
  points: EvidencePoint[];
}

export interface MetricEvidence {
  metric: CanaryMetricName;
  /** 'e': ln e (anytime); 'p': ln(1/p) (bonferroni). */
  kind: 'e' | 'p';
  series: EvidenceSeries[];
  /** Checks at which the metric's verdict was fail. */
  fails: number[];
}

/** Each metric's tests over the checks (metrics with no test at any check left out). */
export function evidenceSeries(checks: CanaryCheck[]): MetricEvidence[] {
  const byMetric = new Map<CanaryMetricName, MetricEvidence>();
  checks.forEach((check, i) => {
    for (const m of check.metrics) {
      if (!m.evidence) continue;
      for (const t of m.evidence.tests) {
        let me = byMetric.get(m.name);
        if (!me) byMetric.set(m.name, (me = { metric: m.name, kind: t.e_value === null ? 'p' : 'e', series: [], fails: [] }));
        let s = me.series.find((x) => x.test === t.name);
        if (!s) me.series.push((s = { test: t.name, level: t.alpha, bar: Math.log(1 / t.alpha), points: [] }));
        s.points.push({ check: i + 1, value: t.e_value === null ? -Math.log(t.p_value) : Math.log(t.e_value) });
      }
      if (m.verdict === 'fail' && byMetric.has(m.name)) byMetric.get(m.name)!.fails.push(i + 1);
    }
  });
  return [...byMetric.values()];
}

export interface ChartGeometry {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  /** The value range drawn; evidence beyond it is drawn at the edge (`clipped`). */
  domain: { min: number; max: number };
  checks: number;
  bars: { test: string; level: number; bar: number; y: number }[];
  /** Polylines per test, broken where a check had no test (too few samples, no baseline at 100 %). */
  lines: { test: string; segments: { check: number; x: number; y: number; clipped: boolean }[][] }[];
  fails: { check: number; x: number }[];
}

const WIDTH = 520;
const HEIGHT = 150;
const PLOT = { left: 44, top: 12, right: WIDTH - 12, bottom: HEIGHT - 26 };

export function chartGeometry(me: MetricEvidence, checks: number): ChartGeometry {
  const top = Math.max(...me.series.map((s) => s.bar));
  const values = me.series.flatMap((s) => s.points.map((p) => p.value)).filter(Number.isFinite);
  // Up to 2.5 bars above and one below zero: enough to see a crossing, and a line far past the bar
  // (a +50 % latency has ln e in the hundreds) does not flatten the rest.
  const domain = { min: Math.max(-top, Math.min(0, ...values)), max: Math.min(2.5 * top, Math.max(1.25 * top, ...values)) };
  const x = (check: number) => PLOT.left + (checks <= 1 ? 0.5 : (check - 1) / (checks - 1)) * (PLOT.right - PLOT.left);
  const y = (v: number) => PLOT.top + ((domain.max - Math.min(domain.max, Math.max(domain.min, v))) / (domain.max - domain.min)) * (PLOT.bottom - PLOT.top);
  const lines = me.series.map((s) => {
    const segments: ChartGeometry['lines'][number]['segments'] = [];
    let prev = -1;
    for (const p of s.points) {
      if (p.check !== prev + 1 || segments.length === 0) segments.push([]);
      const v = Number.isNaN(p.value) ? 0 : p.value;
      segments.at(-1)!.push({ check: p.check, x: x(p.check), y: y(v), clipped: v > domain.max || v < domain.min });
      prev = p.check;
    }
    return { test: s.test, segments };
  });
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    domain,
    checks,
    bars: me.series.map((s) => ({ test: s.test, level: s.level, bar: s.bar, y: y(s.bar) })),
    lines,
    fails: me.fails.map((check) => ({ check, x: x(check) })),
  };
}

const COLOURS = ['var(--vscode-charts-blue, #3794ff)', 'var(--vscode-charts-purple, #b180d7)', 'var(--vscode-charts-orange, #d18616)'];
const TEXT = 'fill: var(--vscode-foreground, currentColor); font-size: 10px; font-family: var(--vscode-font-family, sans-serif)';
const AXIS = 'stroke: var(--vscode-editorWidget-border, #8888); stroke-width: 1';
const FAIL = 'var(--vscode-charts-red, #f14c4c)';

const n1 = (v: number) => (Math.round(v * 10) / 10).toFixed(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart as one block of inline SVG without blank lines (a Markdown HTML block ends at one). */
export function evidenceChartSvg(me: MetricEvidence, checks: number): string {
  const g = chartGeometry(me, checks);
  const { left, top, right, bottom } = g.plot;
  const what = me.kind === 'e' ? 'ln e' : 'ln(1/p)';
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-label="${esc(`${me.metric}: ${what} per check against ln(1/α)`)}">`,
    `<title>${esc(`${me.metric}: evidence (${what}) at each check against the bar of each test`)}</title>`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" style="${AXIS}"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" style="${AXIS}"/>`,
    `<text x="${left - 4}" y="${top + 8}" text-anchor="end" style="${TEXT}">${n1(g.domain.max)}</text>`,
    `<text x="${left - 4}" y="${bottom}" text-anchor="end" style="${TEXT}">${n1(g.domain.min)}</text>`,
    `<text x="${left}" y="${bottom + 14}" style="${TEXT}">check 1</text>`,
    `<text x="${right}" y="${bottom + 14}" text-anchor="end" style="${TEXT}">${g.checks}</text>`,
    `<text x="${(left + right) / 2}" y="${bottom + 14}" text-anchor="middle" style="${TEXT}">${esc(what)}</text>`,
  ];
  if (g.domain.min < 0) {
    const zero = top + (g.domain.max / (g.domain.max - g.domain.min)) * (bottom - top);
    out.push(`<line x1="${left}" y1="${zero}" x2="${right}" y2="${zero}" style="${AXIS}; stroke-dasharray: 1 3"/>`);
  }
  g.bars.forEach((b, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    out.push(`<line x1="${left}" y1="${b.y}" x2="${right}" y2="${b.y}" style="stroke: ${colour}; stroke-width: 1; stroke-dasharray: 4 3"/>`);
    // Labelled above its line at the right; a second bar close below the first is labelled under it.
    const under = i > 0 && Math.abs(b.y - g.bars[i - 1]!.y) < 12;
    out.push(`<text x="${right}" y="${b.y + (under ? 11 : -3)}" text-anchor="end" style="${TEXT}; fill: ${colour}">${esc(`${b.test}: α ${fmtLevel(b.level)}, ln(1/α) = ${n1(b.bar)}`)}</text>`);
  });
  g.lines.forEach((l, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    for (const seg of l.segments) {
      if (seg.length > 1) out.push(`<polyline points="${seg.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" style="fill: none; stroke: ${colour}; stroke-width: 1.5"/>`);
      for (const p of seg) out.push(`<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${p.clipped ? 3 : 2}" style="fill: ${colour}"><title>check ${p.check}: ${esc(l.test)}</title></circle>`);
    }
  });
  for (const f of g.fails) out.push(`<line x1="${f.x.toFixed(1)}" y1="${top}" x2="${f.x.toFixed(1)}" y2="${bottom}" style="stroke: ${FAIL}; stroke-width: 1.5; stroke-dasharray: 2 2"><title>check ${f.check}: fail</title></line>`);
  out.push('</svg>');
  return out.join('');
}

function fmtLevel(level: number): string {
  return level >= 1e-4 ? String(Number(level.toPrecision(2))) : level.toExponential(1);
}
