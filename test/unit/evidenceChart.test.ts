// The report's evidence charts (extension/src/canary/evidenceChart.ts): whole canaries from the real
// controller on seeded traffic; the geometry puts a test's line across its bar exactly at the check
// where the canary rolled back, and nowhere before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartGeometry, evidenceChartSvg, evidenceSeries } from '../../extension/src/canary/evidenceChart.js';
import { canaryReport } from '../../extension/src/canary/canaryReport.js';
import { simulate } from '../helpers/canaryRuns.js';

for (const method of ['anytime', 'bonferroni'] as const) {
  test(`${method}: the error rate's line crosses its bar at the check that rolled back, not before`, () => {
    const c = simulate({ method, steps: [10, 25, 50, 100], checks_per_step: 4 }, 7, { perCheck: 1000, candidateError: 0.02 });
    assert.equal(c.state, 'rolled_back', c.reason ?? '');
    assert.match(c.reason!, /^error_rate:/);
    const at = c.checks.length; // 1-based: the last check decided the rollback
    assert.ok(at > 1, `rolled back at check ${at}: too soon to show a crossing`);
    const error = evidenceSeries(c.checks).find((m) => m.metric === 'error_rate')!;
    assert.equal(error.kind, method === 'anytime' ? 'e' : 'p');
    assert.deepEqual(error.fails, [at]);
    const g = chartGeometry(error, c.checks.length);
    const i = error.series.findIndex((s) => s.test === 'relative');
    const bar = g.bars[i]!;
    assert.ok(Math.abs(bar.bar - Math.log(1 / c.checks[0]!.metrics[0]!.evidence!.tests.find((t) => t.name === 'relative')!.alpha)) < 1e-12);
    // SVG y grows downwards: at or above the bar is y ≤ bar.y.
    const points = g.lines[i]!.segments.flat();
    const crossed = points.filter((p) => p.y <= bar.y).map((p) => p.check);
    assert.equal(crossed[0], at, `points ${points.map((p) => `${p.check}:${p.y.toFixed(1)}`).join(' ')}, bar ${bar.y.toFixed(1)}`);
    // x runs over every check of the canary, from the plot's left to its right edge.
    assert.equal(points[0]!.x, g.plot.left);
    assert.equal(points.at(-1)!.x, g.plot.right);
    assert.equal(g.fails[0]!.x, points.at(-1)!.x);
    // The y of a point is the value's, linearly (the one that rolled back is inside the domain).
    const v = error.series[i]!.points.at(-1)!.value;
    assert.ok(!points.at(-1)!.clipped);
    const expectedY = g.plot.top + ((g.domain.max - v) / (g.domain.max - g.domain.min)) * (g.plot.bottom - g.plot.top);
    assert.ok(Math.abs(points.at(-1)!.y - expectedY) < 1e-9);
  });
}

test('a check without a test breaks the line; the SVG has no script and no blank line', () => {
  // At 100 % the comparisons have no baseline: latency has no test there, so its line stops.
  const c = simulate({ steps: [50, 100], checks_per_step: 2, thresholds: { min_samples: 30 } }, 4, { perCheck: 300 });
  assert.equal(c.state, 'promoted', c.reason ?? '');
  const latency = evidenceSeries(c.checks).find((m) => m.metric === 'latency')!;
  assert.deepEqual(latency.series[0]!.points.map((p) => p.check), [1, 2]);
  assert.deepEqual(latency.fails, []);
  const g = chartGeometry(latency, c.checks.length);
  assert.equal(g.lines[0]!.segments.length, 1);
  assert.ok(g.lines[0]!.segments[0]!.every((p) => p.y > g.bars[0]!.y), 'an identical candidate stays below its bar');
  const svg = evidenceChartSvg(latency, c.checks.length);
  assert.match(svg, /^<svg [^>]*role="img"/);
  assert.doesNotMatch(svg, /<script|\n|href=/);
  assert.match(svg, /var\(--vscode-charts-blue, #3794ff\)/);
  // In the report: one chart per metric with a test, each inside one HTML block.
  const md = canaryReport(c);
  assert.deepEqual([...md.matchAll(/^\*\*(\w+)\*\*\n\n<div><svg /gm)].map((m) => m[1]), ['error_rate', 'latency', 'predictions', 'confidence']);
});
