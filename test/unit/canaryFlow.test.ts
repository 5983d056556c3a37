// Evaluate Canary's pure parts: the flow's titles, typed and configured weight steps, the downgrade
// question, "Edit thresholds…", the no-traffic check, and the last notification's text (the reason
// said once; what became of a canary whose agent stopped).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Canary, CanaryCheck, CanaryMetricResult } from '../../common/api.js';
import {
  agentStoppedText,
  downgradeQuestion,
  flowTitle,
  isDowngrade,
  noTraffic,
  noTrafficText,
  outcomeText,
  parseSteps,
  parseThresholdEdits,
  settingsProblems,
  stepsProblem,
} from '../../extension/src/canary/canaryFlow.js';

test('flow titles count the steps and name the model, then baseline → candidate', () => {
  assert.equal(flowTitle(1), 'Evaluate Canary (1/4)');
  assert.equal(flowTitle(2, { model: 'digits' }), 'Evaluate Canary (2/4): digits');
  assert.equal(flowTitle(3, { model: 'digits', baseline: '1', candidate: '2' }), 'Evaluate Canary (3/4): digits 1 → 2');
});

test('typed steps: commas, spaces and % signs; the agent\'s rules checked before sending', () => {
  assert.deepEqual(parseSteps('10,50,100'), { steps: [10, 50, 100] });
  assert.deepEqual(parseSteps(' 10% 50%, 100 '), { steps: [10, 50, 100] });
  assert.deepEqual(parseSteps('2.5, 100'), { steps: [2.5, 100] });
  assert.match((parseSteps('50,10') as { error: string }).error, /increasing weights, got 50 then 10/);
  assert.match((parseSteps('10,150') as { error: string }).error, /\(0, 100\]/);
  assert.match((parseSteps('0,100') as { error: string }).error, /\(0, 100\]/);
  assert.match((parseSteps('ten') as { error: string }).error, /"ten" is not a weight/);
  assert.match((parseSteps('  ') as { error: string }).error, /e\.g\. 10,50,100/);
  assert.match(stepsProblem(Array.from({ length: 21 }, (_, i) => i + 1)) ?? '', /at most 20/);
  assert.equal(stepsProblem([10, 25, 50, 100]), undefined);
});

test('settings are checked with the setting named in the message', () => {
  assert.deepEqual(settingsProblems({ steps: [10, 25, 50, 100], intervalSeconds: 30, checksPerStep: 4, alpha: 0.05 }), []);
  const p = settingsProblems({ steps: [50, 20], intervalSeconds: 0, checksPerStep: 1.5, alpha: 0.9 });
  assert.equal(p.length, 4);
  assert.equal(p[0], 'setting inferscope.canary.steps ([50,20]): expected increasing weights, got 50 then 20');
  assert.match(p[1]!, /^setting inferscope\.canary\.intervalSeconds \(0\): expected seconds from 0\.05 to 86400/);
  assert.match(p[2]!, /^setting inferscope\.canary\.checksPerStep \(1\.5\)/);
  assert.match(p[3]!, /^setting inferscope\.canary\.alpha \(0\.9\)/);
  assert.match(settingsProblems({ steps: 'x', intervalSeconds: 30, checksPerStep: 4, alpha: 0.05 })[0]!, /steps \("x"\): expected an array/);
});

test('a candidate older than the default is a downgrade, asked about in words', () => {
  assert.equal(isDowngrade('1', '2'), true);
  assert.equal(isDowngrade('2', '1'), false);
  assert.equal(isDowngrade('10', '9'), false); // numbers, not strings
  assert.equal(downgradeQuestion('1', '2'), 'Candidate 1 is older than the default 2 — evaluate anyway?');
});

test('Edit thresholds…: name=value pairs in the agent\'s ranges', () => {
  assert.deepEqual(parseThresholdEdits('min_samples=10, max_p99_ratio=2'), { thresholds: { min_samples: 10, max_p99_ratio: 2 } });
  assert.deepEqual(parseThresholdEdits('alpha: 0.01'), { thresholds: { alpha: 0.01 } });
  assert.match((parseThresholdEdits('min_samples=3') as { error: string }).error, /min_samples: expected a whole number from 5/);
  assert.match((parseThresholdEdits('alpha=0') as { error: string }).error, /alpha: expected a number above 0 to 0\.5/);
  assert.match((parseThresholdEdits('speed=1') as { error: string }).error, /unknown threshold "speed"/);
  assert.match((parseThresholdEdits('min_samples') as { error: string }).error, /expected name=value/);
  assert.match((parseThresholdEdits('') as { error: string }).error, /name=value pairs/);
});

const metric = (name: CanaryMetricResult['name'], perS: number | null): CanaryMetricResult => ({
  name,
  baseline: null,
  candidate: null,
  statistic: null,
  p_value: null,
  verdict: 'inconclusive',
  reason: 'too few samples',
  ...(perS === null
    ? {}
    : { evidence: { n: { baseline: 0, candidate: 0 }, gate: 'too_few', tests: [], effect: null, values: {}, mde: null, eta: { checks: null, requests_per_s: perS, text: perS === 0 ? 'no traffic since the last check: …' : 'about 3 more checks' } } }),
});
const check = (metrics: CanaryMetricResult[], samples = { baseline: 0, candidate: 0 }): CanaryCheck => ({ at: '2026-12-03T11:00:00Z', step: 0, weight: 10, samples, decision: 'continue', metrics });

test('no traffic: from the ledger\'s ETA at 0 req/s (the error rate\'s first), or (older agents) no samples and nothing judged', () => {
  assert.equal(noTraffic(check([metric('error_rate', 0), metric('latency', 0)])), true);
  assert.equal(noTraffic(check([metric('error_rate', 12.5), metric('latency', 12.5)])), false);
  // Requests that all failed: latency (successes only) sees none, the error rate sees them.
  assert.equal(noTraffic(check([metric('error_rate', 8), metric('latency', 0)])), false);
  assert.equal(noTraffic(check([metric('latency', 0), metric('confidence', 0)])), true);
  assert.equal(noTraffic(check([metric('error_rate', null)])), true);
  assert.equal(noTraffic(check([metric('error_rate', null)], { baseline: 40, candidate: 5 })), false);
  assert.equal(noTrafficText({ model: 'digits', baseline: '1', candidate: '2' }), 'Canary digits 1 → 2: no requests in the last check — send test traffic?');
});

const canary = (over: Partial<Canary>): Canary =>
  ({ id: 'c1', model: 'digits', baseline: '1', candidate: '2', state: 'running', weight: 50, steps: [10, 50, 100], step: 1, interval_s: 1, checks_per_step: 2, checks: [], decision: null, reason: null, ...over }) as Canary;

test('the outcome says the reason once, with no doubled "back on the baseline" or full stop', () => {
  assert.equal(
    outcomeText(canary({ state: 'aborted', decision: 'abort', reason: 'aborted by request; all traffic back on the baseline' })),
    'Canary digits 1 → 2: aborted; all traffic is back on version 1.',
  );
  assert.equal(
    outcomeText(canary({ state: 'rolled_back', decision: 'rollback', reason: 'the agent restarted during the canary (its samples were in memory); traffic is back on the baseline' })),
    'Canary digits 1 → 2: rolled back; all traffic is back on version 1 — the agent restarted during the canary (its samples were in memory).',
  );
  const slower = 'latency: candidate is slower: P(slower)=0.71 (z=5.2, p=0.0001); p99 3.1 ms vs 2.2 ms';
  const text = outcomeText(canary({ state: 'rolled_back', decision: 'rollback', reason: slower }));
  assert.equal(text, `Canary digits 1 → 2: rolled back; all traffic is back on version 1 — ${slower}.`);
  assert.equal(text.split('rolled back').length - 1, 1);
  assert.equal(outcomeText(canary({ state: 'promoted', decision: 'promote', reason: 'every critical metric passed at 100%.' })), 'Canary digits 1 → 2: promoted; version 2 is now the default (every critical metric passed at 100%).');
});

test('an agent that stops during a canary: where the canary was, and what happens to it', () => {
  const c = canary({ checks: [check([]), check([]), check([])] });
  assert.equal(
    agentStoppedText(c, 'stopped'),
    'Canary digits 1 → 2 ended undecided at 50% (step 2 of 3, 3 checks): the agent stopped. Its samples were in memory, so when the agent starts again it records the canary as rolled back and version 1 serves all traffic.',
  );
  assert.match(agentStoppedText(c, 'lost'), /lost contact with the agent at 50% .*rolled back to version 1\.$/);
});

test('following a canary: an agent that stops ends the following, not the canary, with the canary as last seen', async () => {
  const { CanaryInterruptedError, followCanary } = await import('../../extension/src/canary/canaryFollower.js');
  const { AgentHttpError, AgentNotRunningError } = await import('../../extension/src/errors.js');
  const started = canary({ checks: [check([])] });
  let aborts = 0;
  const client = (read: () => Promise<Canary>) => ({ canary: read, abortCanary: async () => (aborts++, canary({ state: 'aborted' })) }) as never;

  const stopped = await followCanary(client(() => Promise.reject(new AgentNotRunningError())), started, { pollMs: 1 }).catch((e: unknown) => e);
  assert.ok(stopped instanceof CanaryInterruptedError);
  assert.equal(stopped.how, 'stopped');
  assert.equal(stopped.canary, started);

  const lost = await followCanary(client(() => Promise.reject(new TypeError('fetch failed'))), started, { pollMs: 1 }).catch((e: unknown) => e);
  assert.equal((lost as InstanceType<typeof CanaryInterruptedError>).how, 'lost');

  // The agent's own answer is an error to show, not a lost agent.
  await assert.rejects(followCanary(client(() => Promise.reject(new AgentHttpError(404, 'no canary "c1"'))), started, { pollMs: 1 }), AgentHttpError);

  const gone = new AbortController();
  gone.abort();
  const goneErr = await followCanary(client(() => Promise.resolve(started)), started, { pollMs: 1, agentGone: gone.signal }).catch((e: unknown) => e);
  assert.equal((goneErr as InstanceType<typeof CanaryInterruptedError>).how, 'stopped');
  assert.equal(aborts, 0, 'nothing was aborted');
});
