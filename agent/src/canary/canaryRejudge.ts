// Re-judging a canary's recorded evidence at another alpha, without rerunning it: each recorded
// check's metrics are judged again from their ledger rows (canaryAnalysis `judge`), and the
// decisions replayed (`decide`) in order. The e-values and statistics do not depend on alpha, so up
// to where the record ends this is what a fresh canary at that alpha would have decided on the same
// traffic; where the original stopped earlier than the new alpha would have, the answer is
// "undecided": the evidence that would have followed was never collected.
//
// Open-ended canaries hold a step until the evidence is enough to see the smallest regression that
// counts; that "enough" is replayed as recorded (at the canary's own alpha).
import type { Canary, CanaryMetricResult, CanaryRejudgement, CheckDecision } from '../../../common/api.js';
import { InvalidInputError } from '../errors.js';
import { decide, judge, testLevels, type TestKey } from './canaryAnalysis.js';

export function rejudge(c: Canary, alpha: number): CanaryRejudgement {
  if (!(alpha > 0 && alpha <= 0.5)) throw new InvalidInputError('expected alpha in (0, 0.5]');
  const method = c.method ?? 'bonferroni';
  const thresholds = { ...c.thresholds, alpha };
  const levels: Record<TestKey, number> = testLevels(method, thresholds, c.steps.length * c.checks_per_step);
  const checks: CanaryRejudgement['checks'] = [];
  let checkInStep = 0;
  let inconclusive = 0;
  for (const [i, check] of c.checks.entries()) {
    const metrics: CanaryMetricResult[] = check.metrics.map((m) => (m.evidence ? { ...m, ...judge(m.name, m.evidence, thresholds, levels) } : m));
    const unsure = metrics.some((m) => thresholds.critical.includes(m.name) && m.verdict === 'inconclusive');
    if (unsure) inconclusive++;
    const { decision, reason } = decide({
      metrics,
      critical: thresholds.critical,
      checkInStep,
      checksPerStep: c.checks_per_step,
      isLastStep: check.step === c.steps.length - 1,
      inconclusiveChecks: inconclusive,
      maxInconclusive: thresholds.max_inconclusive_checks,
      openEnded: c.open_ended ?? false,
      baselineServes: check.weight < 100,
    });
    checks.push({ at: check.at, step: check.step, weight: check.weight, decision, metrics: metrics.map((m) => ({ name: m.name, verdict: m.verdict, reason: m.reason })) });
    if (decision === 'rollback' || decision === 'promote') {
      return { canary: c.id, method, alpha, decision, at_check: i + 1, reason, checks };
    }
    if (decision !== check.decision) {
      // Cannot happen for verdicts from the same evidence (only fail ↔ pass can change, and those end
      // the canary); kept as a guard so a replay never walks into steps the record does not have.
      return { canary: c.id, method, alpha, decision: 'undecided', at_check: null, reason: `the replay decides "${pretty(decision)}" at check ${i + 1} where the canary decided "${pretty(check.decision)}"; the record cannot say more`, checks };
    }
    if (decision === 'next_step') checkInStep = 0;
    else if (!unsure) checkInStep++;
  }
  const why =
    c.state === 'running'
      ? 'the canary is still running'
      : c.state === 'aborted'
        ? 'the canary was aborted'
        : `the canary ${c.state === 'promoted' ? 'was promoted' : 'was rolled back'} at alpha ${c.thresholds.alpha} after ${c.checks.length} check${c.checks.length === 1 ? '' : 's'}`;
  return {
    canary: c.id,
    method,
    alpha,
    decision: 'undecided',
    at_check: null,
    reason: `no decision on the recorded evidence at alpha ${alpha}: ${why}; a canary at this alpha would have kept checking`,
    checks,
  };
}

const pretty = (d: CheckDecision) => d.replace('_', ' ');
