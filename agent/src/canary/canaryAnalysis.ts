// One canary check: compares what the baseline and the candidate served in the current step, per
// metric, and decides what happens next. Pure: the controller and the simulation both use it.
//
// Repeated looks: a canary looks at its data many times (every check of every step), and each
// look is a chance of a false alarm. The allowed false-rollback rate `alpha` is split evenly over
// every test of every planned check (Bonferroni): with K planned checks and m statistical tests
// per check, each test uses alpha / (K·m). By the union bound the chance that *any* test of the
// whole canary fails an identical candidate is at most alpha, whatever the dependence between
// looks. It is conservative; the A/A and A/B simulations (bench/README.md) show what it costs.
import type {
  CanaryMetricName,
  CanaryMetricResult,
  CanaryThresholds,
  CheckDecision,
} from '../../../common/api.js';
import type { VersionSamples } from './canarySamples.js';
import { chiSquareHomogeneity, mannWhitneyGreater, proportionGreaterThan, quantile, twoProportionGreater } from './statistics.js';

export const DEFAULT_THRESHOLDS: CanaryThresholds = {
  alpha: 0.05,
  max_error_rate: 0.05,
  min_error_ratio: 1.25,
  max_p99_ms: 1000,
  max_p99_ratio: 1.5,
  latency_effect_margin: 0.06,
  confidence_effect_margin: 0.06,
  min_cramers_v: 0.1,
  min_samples: 50,
  max_inconclusive_checks: 10,
  critical: ['error_rate', 'latency', 'predictions', 'confidence', 'breaker'],
};

/** Statistical tests per check (error rate: relative and absolute; latency; predictions; confidence). */
export const TESTS_PER_CHECK = 5;

/** Checks that can happen: the planned ones, plus the inconclusive ones tolerated on top. */
export function alphaPerTest(t: CanaryThresholds, plannedChecks: number): number {
  return t.alpha / (Math.max(1, plannedChecks + t.max_inconclusive_checks) * TESTS_PER_CHECK);
}

export interface Tally {
  requests: number;
  errors: number;
}

export interface CheckInput {
  baseline: VersionSamples;
  candidate: VersionSamples;
  /**
   * Requests and model failures over the whole canary so far. The error rate is judged on these:
   * a version's error rate does not depend on its share of traffic, and restarting the count at
   * every step would throw away the evidence that catches a doubled error rate.
   */
  baselineTotal?: Tally;
  candidateTotal?: Tally;
  /** The candidate's breaker opened during this step. */
  candidateBreakerOpened: boolean;
  /** At 100 % the baseline serves nothing: only absolute thresholds can judge. */
  baselineServes: boolean;
  thresholds: CanaryThresholds;
  alpha: number;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const pv = (p: number) => (p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`);

function result(
  name: CanaryMetricName,
  verdict: CanaryMetricResult['verdict'],
  reason: string,
  values: Partial<Pick<CanaryMetricResult, 'baseline' | 'candidate' | 'statistic' | 'p_value'>> = {},
): CanaryMetricResult {
  return { name, baseline: values.baseline ?? null, candidate: values.candidate ?? null, statistic: values.statistic ?? null, p_value: values.p_value ?? null, verdict, reason };
}

export function analyzeCheck(input: CheckInput): CanaryMetricResult[] {
  return [errorRate(input), latency(input), predictions(input), confidence(input), breaker(input)];
}

function errorRate({ baseline: stepB, candidate: stepC, baselineTotal, candidateTotal, thresholds: t, alpha }: CheckInput): CanaryMetricResult {
  const b = baselineTotal ?? stepB;
  const c = candidateTotal ?? stepC;
  const baselineServes = b.requests > 0;
  const cRate = c.requests ? c.errors / c.requests : 0;
  const bRate = b.requests ? b.errors / b.requests : 0;
  if (c.requests < t.min_samples || b.requests < t.min_samples) {
    return result('error_rate', 'inconclusive', `too little traffic: ${c.requests} candidate / ${b.requests} baseline requests (need ${t.min_samples} each)`, { baseline: bRate, candidate: cRate });
  }
  const absolute = proportionGreaterThan(c.errors, c.requests, t.max_error_rate);
  if (absolute.p < alpha) {
    return result('error_rate', 'fail', `candidate error rate ${pct(cRate)} is above the ${pct(t.max_error_rate)} limit (z=${absolute.statistic.toFixed(1)}, ${pv(absolute.p)})`, {
      baseline: bRate, candidate: cRate, statistic: absolute.statistic, p_value: absolute.p,
    });
  }
  if (!baselineServes) {
    return result('error_rate', 'pass', `candidate error rate ${pct(cRate)} is within the ${pct(t.max_error_rate)} limit (no baseline traffic to compare)`, { candidate: cRate, statistic: absolute.statistic, p_value: absolute.p });
  }
  const relative = twoProportionGreater(b.errors, b.requests, c.errors, c.requests);
  // Worse by the test *and* by a margin that matters (a significant 0.10% vs 0.11% is no regression).
  // The classic "more than 2× baseline" rule flags a true doubling only half the time (the observed
  // ratio of a true 2× lands below 2 as often as above); significance plus a smaller margin does not.
  const floor = Math.max(bRate * t.min_error_ratio, bRate + 0.002);
  if (relative.p < alpha && cRate >= floor) {
    return result('error_rate', 'fail', `candidate error rate ${pct(cRate)} vs ${pct(bRate)} is significantly higher (z=${relative.statistic.toFixed(1)}, ${pv(relative.p)}; ${(cRate / Math.max(bRate, 1e-9)).toFixed(1)}× baseline)`, {
      baseline: bRate, candidate: cRate, statistic: relative.statistic, p_value: relative.p,
    });
  }
  return result('error_rate', 'pass', `candidate error rate ${pct(cRate)} vs ${pct(bRate)} (${pv(relative.p)}): no significant increase`, {
    baseline: bRate, candidate: cRate, statistic: relative.statistic, p_value: relative.p,
  });
}

function latency({ baseline: b, candidate: c, thresholds: t, alpha, baselineServes }: CheckInput): CanaryMetricResult {
  const n = t.min_samples;
  if (c.latenciesMs.length < n || (baselineServes && b.latenciesMs.length < n)) {
    return result('latency', 'inconclusive', `too few successful requests to compare latency (${c.latenciesMs.length} candidate / ${b.latenciesMs.length} baseline, need ${n})`);
  }
  const cP99 = quantile(c.latenciesMs, 0.99);
  if (!baselineServes) {
    const verdict = cP99 > t.max_p99_ms ? 'fail' : 'pass';
    return result('latency', verdict, `candidate p99 ${ms(cP99)} ${verdict === 'fail' ? 'is above' : 'is within'} the ${ms(t.max_p99_ms)} limit (baseline serves no traffic at 100%)`, { candidate: cP99 });
  }
  const bP99 = quantile(b.latenciesMs, 0.99);
  const mw = mannWhitneyGreater(b.latenciesMs, c.latenciesMs);
  const values = { baseline: bP99, candidate: cP99, statistic: mw.statistic, p_value: mw.p };
  const shifted = mw.p < alpha && mw.effect > 0.5 + t.latency_effect_margin;
  if (shifted) {
    return result('latency', 'fail', `candidate is slower: P(slower)=${mw.effect.toFixed(2)} (z=${mw.statistic.toFixed(1)}, ${pv(mw.p)}); p99 ${ms(cP99)} vs ${ms(bP99)}`, values);
  }
  // The p99 limits count only together with a significant shift: a lone p99 is too noisy to trust.
  if (mw.p < alpha && (cP99 > t.max_p99_ms || cP99 > bP99 * t.max_p99_ratio)) {
    return result('latency', 'fail', `candidate p99 ${ms(cP99)} vs ${ms(bP99)} exceeds ${cP99 > t.max_p99_ms ? `the ${ms(t.max_p99_ms)} limit` : `${t.max_p99_ratio}× baseline`}, with a significant shift (${pv(mw.p)})`, values);
  }
  return result('latency', 'pass', `no meaningful slowdown: P(slower)=${mw.effect.toFixed(2)} (${pv(mw.p)}); p99 ${ms(cP99)} vs ${ms(bP99)}`, values);
}

function predictions({ baseline: b, candidate: c, thresholds: t, alpha, baselineServes }: CheckInput): CanaryMetricResult {
  const total = (x: number[]) => x.reduce((s, v) => s + (v ?? 0), 0);
  const nb = total(b.classCounts);
  const nc = total(c.classCounts);
  if (!baselineServes) return result('predictions', 'pass', 'baseline serves no traffic at 100%: nothing to compare');
  if (nb === 0 && nc === 0 && b.latenciesMs.length >= t.min_samples && c.latenciesMs.length >= t.min_samples) {
    return result('predictions', 'pass', 'the model is not a classifier (no class output): nothing to compare');
  }
  if (nc < t.min_samples || nb < t.min_samples) {
    return result('predictions', 'inconclusive', `too few predictions to compare (${nc} candidate / ${nb} baseline, need ${t.min_samples})`);
  }
  const width = Math.max(b.classCounts.length, c.classCounts.length);
  const dense = (x: number[]) => Array.from({ length: width }, (_, i) => x[i] ?? 0);
  const chi = chiSquareHomogeneity(dense(b.classCounts), dense(c.classCounts));
  const values = { statistic: chi.statistic, p_value: chi.p, baseline: 0, candidate: chi.cramersV };
  if (chi.p < alpha && chi.cramersV >= t.min_cramers_v) {
    return result('predictions', 'fail', `candidate predicts a different class mix: Cramér's V=${chi.cramersV.toFixed(2)} (χ²=${chi.statistic.toFixed(1)}, df=${chi.df}, ${pv(chi.p)})`, values);
  }
  return result('predictions', 'pass', `same class mix: Cramér's V=${chi.cramersV.toFixed(2)} (${pv(chi.p)})`, values);
}

function confidence({ baseline: b, candidate: c, thresholds: t, alpha, baselineServes }: CheckInput): CanaryMetricResult {
  if (!baselineServes) return result('confidence', 'pass', 'baseline serves no traffic at 100%: nothing to compare');
  if (b.confidences.length === 0 && c.confidences.length === 0 && b.latenciesMs.length >= t.min_samples && c.latenciesMs.length >= t.min_samples) {
    return result('confidence', 'pass', 'the model is not a classifier (no scores): nothing to compare');
  }
  if (c.confidences.length < t.min_samples || b.confidences.length < t.min_samples) {
    return result('confidence', 'inconclusive', `too few scored predictions (${c.confidences.length} candidate / ${b.confidences.length} baseline, need ${t.min_samples})`);
  }
  // "Candidate less confident" = baseline's scores stochastically greater than the candidate's.
  const mw = mannWhitneyGreater(c.confidences, b.confidences);
  const bMed = quantile(b.confidences, 0.5);
  const cMed = quantile(c.confidences, 0.5);
  const values = { baseline: bMed, candidate: cMed, statistic: mw.statistic, p_value: mw.p };
  if (mw.p < alpha && mw.effect > 0.5 + t.confidence_effect_margin) {
    return result('confidence', 'fail', `candidate is less confident: median top-1 ${cMed.toFixed(3)} vs ${bMed.toFixed(3)} (P(lower)=${mw.effect.toFixed(2)}, ${pv(mw.p)})`, values);
  }
  return result('confidence', 'pass', `confidence holds: median top-1 ${cMed.toFixed(3)} vs ${bMed.toFixed(3)} (${pv(mw.p)})`, values);
}

function breaker({ candidateBreakerOpened }: CheckInput): CanaryMetricResult {
  return candidateBreakerOpened
    ? result('breaker', 'fail', "the candidate's circuit breaker opened")
    : result('breaker', 'pass', "the candidate's circuit breaker stayed closed");
}

export interface DecisionInput {
  metrics: CanaryMetricResult[];
  critical: CanaryMetricName[];
  /** Index of this check within its step (0-based). */
  checkInStep: number;
  checksPerStep: number;
  isLastStep: boolean;
  /** Inconclusive checks so far in this canary, including this one if it is. */
  inconclusiveChecks: number;
  maxInconclusive: number;
}

export function decide(d: DecisionInput): { decision: CheckDecision; reason: string } {
  const critical = d.metrics.filter((m) => d.critical.includes(m.name));
  const failed = critical.filter((m) => m.verdict === 'fail');
  if (failed.length) return { decision: 'rollback', reason: failed.map((m) => `${m.name}: ${m.reason}`).join('; ') };
  const unsure = critical.filter((m) => m.verdict === 'inconclusive');
  if (unsure.length) {
    if (d.inconclusiveChecks > d.maxInconclusive) {
      return { decision: 'rollback', reason: `not enough traffic to judge the candidate after ${d.inconclusiveChecks} inconclusive checks (${unsure.map((m) => m.name).join(', ')})` };
    }
    return { decision: 'continue', reason: `waiting for traffic: ${unsure.map((m) => `${m.name} (${m.reason})`).join('; ')}` };
  }
  if (d.checkInStep + 1 < d.checksPerStep) return { decision: 'continue', reason: 'all metrics pass; holding the step' };
  if (d.isLastStep) return { decision: 'promote', reason: 'every metric passed at every step' };
  return { decision: 'next_step', reason: 'all metrics pass; moving to the next step' };
}
