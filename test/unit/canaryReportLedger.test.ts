// The extension's side of the ledger (issue 21): Show Canary Report has each check's evidence as a
// table, the progress line says what the canary waits for, and the panel's canary section lists
// what the last check could see. Whole canaries from the real controller on seeded traffic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rejudge } from '../../agent/src/canary/canaryRejudge.js';
import { summaryOf } from '../../agent/src/canary/canarySummaries.js';
import { canaryReport, checkLine, ledgerRows } from '../../extension/src/canary/canaryReport.js';
import { sightLines } from '../../webview/src/sections/canarySight.js';
import { simulate } from '../helpers/canaryRuns.js';

test('the report carries the evidence ledger of every check, one row per test', () => {
  const c = simulate({ steps: [50, 100], checks_per_step: 2, thresholds: { min_samples: 30 } }, 4, { perCheck: 300 });
  assert.equal(c.state, 'promoted', c.reason ?? '');
  const md = canaryReport(c);
  assert.match(md, /^\| Method \| anytime \|$/m);
  assert.match(md, /^\| Significance \| α 0\.05 over the whole canary, at every look: error_rate\.relative 0\.0200, error_rate\.limit 0\.00500, latency\.shift 0\.00833/m);
  assert.equal(md.match(/^Evidence ledger:$/gm)!.length, c.checks.length);
  const rows = ledgerRows(c.checks[0]!);
  assert.deepEqual(rows.map((r) => `${r[0]} ${r[1]}`), ['error_rate limit', 'error_rate relative', 'latency shift', 'predictions mix', 'confidence shift']);
  const latency = rows.find((r) => r[0] === 'latency')!;
  assert.match(latency[8]!, /^P\(slower\) 0\.\d+ \[0\.\d+, 0\.\d+\]$/);
  assert.match(latency[9]!, /^can detect \+\d+% latency now/);
  // At 100 % the comparisons have no baseline: the row says so instead of inventing a test.
  const last = ledgerRows(c.checks.at(-1)!);
  assert.deepEqual(last.find((r) => r[0] === 'latency')!.slice(0, 2), ['latency', 'no baseline traffic (100 %)']);
  // The status (sent every second) keeps the evidence of the last check only.
  const recent = summaryOf(c, true).recent_checks;
  assert.deepEqual(recent.map((k) => k.metrics.some((m) => m.evidence !== undefined)), recent.map((_, i) => i === recent.length - 1));
});

test('the progress line and the panel say what the canary can see and what it waits for', () => {
  const c = simulate({ steps: [50, 100], open_ended: true, thresholds: { min_samples: 30 } }, 5, { perCheck: 300 }, 3);
  const check = c.checks.at(-1)!;
  assert.equal(check.decision, 'continue');
  assert.match(checkLine(check), /^50%: error_rate ✓, latency ✓, predictions ✓, confidence ✓, breaker ✓ → continue · error_rate: can detect \d+\.\d× the baseline's error rate \(\d+\.\d+% → \d+\.\d+%\) now; about \d+ more checks at 30 req\/s to see 1\.\d\d× errors/);
  const lines = sightLines(check);
  assert.deepEqual(lines.map((l) => l.split(':')[0]), ['error_rate', 'latency', 'predictions', 'confidence']);
  assert.match(lines[0]!, /^error_rate: can detect \d+\.\d× the baseline's error rate \(\d+\.\d+% → \d+\.\d+%\) now · about \d+ more checks/);
  // No traffic since the last check: said as such, with what to do.
  const idle = simulate({ steps: [50, 100], open_ended: true, thresholds: { min_samples: 30 } }, 5, { perCheck: 300, silentFrom: 2 }, 3).checks.at(-1)!;
  assert.match(checkLine(idle), / → continue · no traffic since the last check: send requests to the model \(Inferscope: Send Test Traffic\)/);
  assert.ok(sightLines(idle).every((l) => l.includes('no traffic since the last check')), sightLines(idle).join('\n'));
});

test('the report shows the recorded evidence re-judged at other alphas, its own alpha agreeing with the canary', () => {
  const c = simulate({ steps: [10, 25, 50, 100], checks_per_step: 4 }, 7, { perCheck: 1000, candidateError: 0.02 });
  assert.equal(c.state, 'rolled_back', c.reason ?? '');
  const md = canaryReport(c, [0.1, 0.05, 0.01].map((a) => rejudge(c, a)));
  const rows = md.split('## Re-judged at other alphas')[1]!.split('\n').filter((l) => /^\| 0\./.test(l));
  assert.deepEqual(rows.map((r) => r.split(' | ').slice(0, 3).join(' | ')), [`| 0.01 | ${rejudge(c, 0.01).decision} | ${rejudge(c, 0.01).at_check ?? '–'}`, `| 0.05 (this canary's) | rollback | ${c.checks.length}`, `| 0.1 | rollback | ${rejudge(c, 0.1).at_check}`]);
  // Without the agent's answers (it stopped), the section is left out.
  assert.doesNotMatch(canaryReport(c), /Re-judged/);
});
