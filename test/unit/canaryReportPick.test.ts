// Show Canary Report (issue 19): the picker lists canaries newest first with local times and labels
// no two share; the report's times are local; the tab names the canary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Canary } from '../../common/api.js';
import { canaryReport } from '../../extension/src/canary/canaryReport.js';
import { localTime, reportFileName, reportPickItems } from '../../extension/src/canary/canaryReportPick.js';

// A fixed zone with an offset, so "local" differs from the agent's UTC (Node reads TZ afresh).
process.env.TZ = 'Asia/Kolkata'; // UTC+05:30, no daylight saving

function canary(id: string, started: string, over: Partial<Canary> = {}): Canary {
  return {
    id, model: 'digits', baseline: '1', candidate: '2', state: 'promoted', decision: 'promote', reason: null, weight: 100, step: 1, steps: [50, 100],
    interval_s: 1, checks_per_step: 1, started_at: started, ended_at: new Date(Date.parse(started) + 65_000).toISOString(),
    thresholds: { alpha: 0.05, critical: ['error_rate'] }, alpha_per_test: 0.01, source: { kind: 'agent' }, checks: [],
    ...over,
  } as unknown as Canary;
}

test('localTime: the local clock time, with the date only when it is another day', () => {
  const now = new Date('2026-12-03T10:00:00Z'); // 15:30 in Kolkata
  assert.equal(localTime('2026-12-03T08:02:13Z', now), '13:32:13');
  assert.equal(localTime('2026-12-02T08:02:13Z', now), '2026-12-02 13:32:13');
  assert.equal(localTime('2026-12-02T20:00:00Z', now), '01:30:00', 'already the 3rd in Kolkata');
  assert.equal(localTime('not a time', now), 'not a time');
});

test('the picker: newest first, local times, no two labels alike', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  const items = reportPickItems([
    canary('c-1', '2026-12-03T08:00:00.100Z'),
    canary('c-3', '2026-12-03T09:15:00.000Z', { state: 'rolled_back', decision: 'rollback', baseline: '1' } as Partial<Canary>),
    canary('c-2', '2026-12-03T08:00:00.900Z'), // the same second as c-1
    canary('c-0', '2026-12-02T23:00:00.000Z', { candidate: '3' }),
  ], now);
  assert.deepEqual(items.map((i) => i.id), ['c-3', 'c-2', 'c-1', 'c-0']);
  assert.deepEqual(items.map((i) => i.label), ['digits 1 → 2 · 14:45:00', 'digits 1 → 2 · 13:30:00 #2', 'digits 1 → 2 · 13:30:00', 'digits 1 → 3 · 04:30:00']);
  assert.equal(new Set(items.map((i) => i.label)).size, items.length);
  assert.equal(items[0]!.description, 'rolled back to version 1');
  assert.equal(items[1]!.description, 'promoted version 2');
  assert.equal(items[0]!.detail, 'started 14:45:00, ended 14:46:05 · c-3');
});

test('the report shows local times and its tab names the canary', () => {
  const c = canary('c-7', '2026-12-03T08:02:13Z', { checks: [{ at: '2026-12-03T08:02:43Z', step: 0, weight: 50, decision: 'continue', samples: { baseline: 10, candidate: 10 }, metrics: [] }] } as unknown as Partial<Canary>);
  const md = canaryReport(c);
  assert.match(md, /^# Canary c-7: digits 1 → 2$/m);
  assert.match(md, /^\| Started \| 2026-12-03 13:32:13 \(local time\) \|$/m);
  assert.match(md, /^\| Ended \| 13:33:18 \|$/m);
  assert.match(md, /^### 1\. 13:32:43: step 1 at 50% → continue$/m);
  assert.equal(reportFileName(c, new Date('2026-12-03T10:00:00Z')), 'Canary digits 1 → 2, 13.32.13.md');
  assert.equal(reportFileName(c, new Date('2026-12-05T10:00:00Z')), 'Canary digits 1 → 2, 2026-12-03 13.32.13.md');
});
