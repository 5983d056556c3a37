// One canary check: compares what the baseline and the candidate served, per metric, and decides
// what happens next. Pure: the controller and the simulation both use it. A check is two halves:
// `measure` turns samples into evidence (counts, statistics, e-values, effect and its interval, the
// smallest detectable effect), and `judge` turns evidence and a level into a verdict. The evidence
// is the canary's ledger, so the recorded checks can be judged again at another alpha (rejudge).
//
// Repeated looks: a canary looks at its data many times, and each look is a chance of a false
// alarm. Two ways to keep "an identical candidate is rolled back at most alpha of the time, over the
// whole canary" (method):
//  - `anytime` (the default): every test is an e-process (sequential.ts: mixture SPRTs), valid at
//    any number of looks, so each test keeps a fixed share of alpha however long the canary runs,
//    and a canary can be open-ended. The shares (ANYTIME_SHARES) favour the error rate, whose
//    regressions are small and show slowly; latency, class mix and confidence regressions of a
//    model version are large and show at once.
//  - `bonferroni`: alpha split evenly over every test of every planned check, including the
//    inconclusive ones tolerated on top: with K checks and m tests each test uses alpha / (K·m).
//    Needs K in advance.
// Either way the union bound over tests gives the guarantee, whatever the dependence between them.
import type {
  CanaryEvidence,
  CanaryMethod,
  CanaryMetricName,
  CanaryMetricResult,
  CanaryTestEvidence,
  CanaryThresholds,
  CheckDecision,
} from '../../../common/api.js';
import type { VersionSamples } from './canarySamples.js';
import { errorRateMde, latencyLikeMde, normalQuantile, predictionsMde } from './canaryMde.js';
import { chiSquareMixtureLogE, confidenceSequenceZ, gridLogE, gridMixture, LIMIT_MULTIPLES, normalMixtureLogE, updateLimit, type GridMixture } from './sequential.js';
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

/** Every test, as `metric.test`: the keys of the levels. */
export const TEST_KEYS = ['error_rate.relative', 'error_rate.limit', 'latency.shift', 'predictions.mix', 'confidence.shift'] as const;
export type TestKey = (typeof TEST_KEYS)[number];

/** anytime: each test's share of alpha (they sum to 1). */
export const ANYTIME_SHARES: Record<TestKey, number> = {
  'error_rate.relative': 0.4,
  'error_rate.limit': 0.1,
  'latency.shift': 0.5 / 3,
  'predictions.mix': 0.5 / 3,
  'confidence.shift': 0.5 / 3,
};

/** Mixture scales τ of the normal-mixture tests, in the units of each effect (see sequential.ts). */
export const TAU = {
  /** P(slower) − ½ and P(less confident) − ½: regressions that matter are 0.06 and up. */
  shift: 0.1,
  /** Cohen's w of the class mix (Cramér's V for two versions). */
  mix: 0.15,
  /** Error-rate difference in standard deviations of one request (√(p(1−p))): 1 % → 2 % is 0.1. */
  errorStandardized: 0.1,
};

/**
 * Checks that can happen: the planned ones, the inconclusive ones tolerated on top, and the one
 * more inconclusive check that ends the canary (its conclusive metrics are still tested).
 */
export function alphaPerTest(t: CanaryThresholds, plannedChecks: number): number {
  return t.alpha / ((plannedChecks + t.max_inconclusive_checks + 1) * TESTS_PER_CHECK);
}

/** The level of every test for a canary. */
export function testLevels(method: CanaryMethod, t: CanaryThresholds, plannedChecks: number): Record<TestKey, number> {
  const perTest = alphaPerTest(t, plannedChecks);
  return Object.fromEntries(TEST_KEYS.map((k) => [k, method === 'anytime' ? t.alpha * ANYTIME_SHARES[k] : perTest])) as Record<TestKey, number>;
}

export interface Tally {
  requests: number;
  errors: number;
}

/** What the anytime tests carry from check to check (and the bonferroni ones' look counts). */
export interface SequentialState {
  /** Absolute-limit mixture over the whole canary (the relative test is recomputed from the totals). */
  errorLimit: GridMixture;
  /** log e of finished steps (multiplied in), and of the current step's last look. */
  carry: Record<'latency' | 'predictions' | 'confidence', number>;
  current: Record<'latency' | 'predictions' | 'confidence', number>;
  /** Largest log e so far per test (the always-valid p-value is its exp(−·)). */
  maxLogE: Partial<Record<TestKey, number>>;
  /** Looks each test has taken (bonferroni's alpha spent). */
  looks: Partial<Record<TestKey, number>>;
}

export function initialState(): SequentialState {
  return {
    errorLimit: gridMixture(LIMIT_MULTIPLES.map(() => 1)),
    carry: { latency: 0, predictions: 0, confidence: 0 },
    current: { latency: 0, predictions: 0, confidence: 0 },
    maxLogE: {},
    looks: {},
  };
}

/** A step ended: its last e-values are multiplied into what later steps build on. */
export function endStep(s: SequentialState): SequentialState {
  const carry = { ...s.carry };
  for (const k of Object.keys(carry) as (keyof typeof carry)[]) carry[k] += s.current[k];
  return { ...s, carry, current: { latency: 0, predictions: 0, confidence: 0 } };
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
  /** Requests and failures since the previous check (the anytime error tests add these). Default: the totals. */
  baselineInterval?: Tally;
  candidateInterval?: Tally;
  /** The candidate's breaker opened during this step. */
  candidateBreakerOpened: boolean;
  /** At 100 % the baseline serves nothing: only absolute thresholds can judge. */
  baselineServes: boolean;
  thresholds: CanaryThresholds;
  /** bonferroni without `levels`: every test's level. */
  alpha: number;
  method?: CanaryMethod;
  levels?: Record<TestKey, number>;
  /** Carried between checks (anytime); initialState() for the first. */
  state?: SequentialState;
  /** Seconds between checks (the request rate of MDE/ETA). */
  intervalS?: number;
}

export interface CheckOutput {
  metrics: CanaryMetricResult[];
  state: SequentialState;
}

export function analyzeCheck(input: CheckInput): CanaryMetricResult[] {
  return runCheck(input).metrics;
}

/** Measures every metric, judges it, and returns the state the next check builds on. */
export function runCheck(input: CheckInput): CheckOutput {
  const method = input.method ?? 'bonferroni';
  const levels = input.levels ?? (Object.fromEntries(TEST_KEYS.map((k) => [k, input.alpha])) as Record<TestKey, number>);
  const ctx: Ctx = { ...input, method, levels, state: cloneState(input.state ?? initialState()), intervalS: input.intervalS ?? 1 };
  const measured: [CanaryMetricName, CanaryEvidence][] = [
    ['error_rate', measureErrorRate(ctx)],
    ['latency', measureLatency(ctx)],
    ['predictions', measurePredictions(ctx)],
    ['confidence', measureConfidence(ctx)],
  ];
  const metrics: CanaryMetricResult[] = measured.map(([name, ev]) => {
    const j = judge(name, ev, input.thresholds, levels);
    return { name, ...displayValues(name, ev), verdict: j.verdict, reason: j.reason, evidence: ev };
  });
  metrics.push(breaker(input));
  return { metrics, state: ctx.state };
}

type Ctx = Omit<CheckInput, 'method' | 'levels' | 'state' | 'intervalS'> & {
  method: CanaryMethod;
  levels: Record<TestKey, number>;
  state: SequentialState;
  intervalS: number;
};

function cloneState(s: SequentialState): SequentialState {
  return {
    errorLimit: { ...s.errorLimit, logLr: [...s.errorLimit.logLr] },
    carry: { ...s.carry },
    current: { ...s.current },
    maxLogE: { ...s.maxLogE },
    looks: { ...s.looks },
  };
}

/** One test's ledger entry; `logE` for anytime (p is then always-valid), `p` for bonferroni. */
function testEvidence(ctx: Ctx, key: TestKey, name: CanaryTestEvidence['name'], statistic: number, logE: number | null, p: number): CanaryTestEvidence {
  const looks = (ctx.state.looks[key] ?? 0) + 1;
  ctx.state.looks[key] = looks;
  if (ctx.method === 'anytime' && logE !== null) {
    const max = Math.max(ctx.state.maxLogE[key] ?? 0, logE);
    ctx.state.maxLogE[key] = max;
    return { name, statistic, e_value: Math.exp(Math.min(700, logE)), p_value: Math.min(1, Math.exp(-max)), alpha: ctx.levels[key], alpha_spent: null };
  }
  return { name, statistic, e_value: null, p_value: p, alpha: ctx.levels[key], alpha_spent: Math.min(1, looks * ctx.levels[key]) };
}

/** Effect interval half-width in standard errors: an anytime confidence sequence, or 95 % for bonferroni. */
function intervalZ(ctx: Ctx, r: number): number {
  return ctx.method === 'anytime' ? confidenceSequenceZ(ctx.thresholds.alpha, r) : normalQuantile(0.975);
}

const noTraffic = (ctx: Ctx) => (ctx.candidateInterval?.requests ?? 1) === 0 && (ctx.baselineInterval?.requests ?? 1) === 0;

function measureErrorRate(ctx: Ctx): CanaryEvidence {
  const { thresholds: t, state } = ctx;
  const b = ctx.baselineTotal ?? ctx.baseline;
  const c = ctx.candidateTotal ?? ctx.candidate;
  const ci = ctx.candidateInterval ?? c;
  // The limit test takes in every interval, judged or not: evidence is evidence.
  state.errorLimit = updateLimit(state.errorLimit, t.max_error_rate, ci.requests, ci.errors);
  const bRate = b.requests ? b.errors / b.requests : 0;
  const cRate = c.requests ? c.errors / c.requests : 0;
  const floor = Math.max(bRate * t.min_error_ratio, bRate + 0.002);
  const values = { baseline_rate: bRate, candidate_rate: cRate, floor };
  const n = { baseline: b.requests, candidate: c.requests };
  if (c.requests < t.min_samples || b.requests < t.min_samples) {
    return { n, gate: 'too_few', tests: [], effect: null, values, mde: null, eta: etaNoTraffic(ctx) };
  }
  const absolute = proportionGreaterThan(c.errors, c.requests, t.max_error_rate);
  const tests = [testEvidence(ctx, 'error_rate.limit', 'limit', absolute.statistic, gridLogE(state.errorLimit), absolute.p)];
  const baselineServes = b.requests > 0;
  if (!baselineServes) return { n, gate: 'no_baseline', tests, effect: null, values, mde: null, eta: null };
  const relative = twoProportionGreater(b.errors, b.requests, c.errors, c.requests);
  // mSPRT on the pooled two-proportion z over the whole canary: r = τ² · n_eff on the standardized scale.
  const nEff = 1 / (1 / b.requests + 1 / c.requests);
  const r = TAU.errorStandardized ** 2 * nEff;
  const logE = ctx.method === 'anytime' ? normalMixtureLogE(relative.statistic, r, true) : null;
  tests.push(testEvidence(ctx, 'error_rate.relative', 'relative', relative.statistic, logE, relative.p));
  const se = Math.sqrt((bRate * (1 - bRate)) / b.requests + (cRate * (1 - cRate)) / c.requests);
  const half = se > 0 ? intervalZ(ctx, r) * se : 0;
  const effect = { estimate: cRate - bRate, low: cRate - bRate - half, high: cRate - bRate + half, unit: 'error-rate difference' };
  const { mde, eta } = errorRateMde({
    method: ctx.method,
    level: ctx.levels['error_rate.relative'],
    tau: TAU.errorStandardized,
    baselineRate: bRate,
    n,
    interval: { baseline: ctx.baselineInterval?.requests ?? 0, candidate: ctx.candidateInterval?.requests ?? 0 },
    intervalS: ctx.intervalS,
    floor,
  });
  return { n, gate: 'ok', tests, effect, values, mde, eta: noTraffic(ctx) ? etaNoTraffic(ctx) : eta };
}

function etaNoTraffic(ctx: Ctx): CanaryEvidence['eta'] {
  if (!noTraffic(ctx)) return null;
  return { checks: null, requests_per_s: 0, text: 'no traffic since the last check: send requests to the model (Inferscope: Send Test Traffic) or the canary cannot decide' };
}

/** Latency and confidence: a one-sided rank test (Mann-Whitney U), mSPRT on its z per step. */
function shiftEvidence(ctx: Ctx, key: 'latency.shift' | 'confidence.shift', carryKey: 'latency' | 'confidence', a: number[], bGreater: number[]) {
  const mw = mannWhitneyGreater(a, bGreater);
  const n1 = a.length;
  const n2 = bGreater.length;
  const v = mw.variance / (n1 * n2) ** 2; // of P(greater)
  const r = v > 0 ? TAU.shift ** 2 / v : 0;
  let logE: number | null = null;
  if (ctx.method === 'anytime') {
    const step = normalMixtureLogE(mw.statistic, r, true);
    ctx.state.current[carryKey] = step;
    logE = ctx.state.carry[carryKey] + step;
  }
  const test = testEvidence(ctx, key, 'shift', mw.statistic, logE, mw.p);
  const half = v > 0 ? intervalZ(ctx, r) * Math.sqrt(v) : 0;
  return { mw, v, r, test, effect: { estimate: mw.effect, low: Math.max(0, mw.effect - half), high: Math.min(1, mw.effect + half) } };
}

function measureLatency(ctx: Ctx): CanaryEvidence {
  const { baseline: b, candidate: c, thresholds: t } = ctx;
  const n = { baseline: b.latenciesMs.length, candidate: c.latenciesMs.length };
  if (c.latenciesMs.length < t.min_samples || (ctx.baselineServes && b.latenciesMs.length < t.min_samples)) {
    return { n, gate: 'too_few', tests: [], effect: null, values: {}, mde: null, eta: etaNoTraffic(ctx) };
  }
  const cP99 = quantile(c.latenciesMs, 0.99);
  if (!ctx.baselineServes) return { n, gate: 'no_baseline', tests: [], effect: null, values: { candidate_p99: cP99 }, mde: null, eta: null };
  const bP99 = quantile(b.latenciesMs, 0.99);
  const s = shiftEvidence(ctx, 'latency.shift', 'latency', b.latenciesMs, c.latenciesMs);
  const { mde, eta } = latencyLikeMde({
    ...mdeContext(ctx, 'latency.shift', 'latency', s.v, n),
    margin: t.latency_effect_margin,
    baselineSample: b.latenciesMs,
    what: 'latency',
  });
  return {
    n,
    gate: 'ok',
    tests: [s.test],
    effect: { ...s.effect, unit: 'P(slower)' },
    values: { baseline_p99: bP99, candidate_p99: cP99, p_slower: s.mw.effect },
    mde,
    eta: noTraffic(ctx) ? etaNoTraffic(ctx) : eta,
  };
}

function mdeContext(ctx: Ctx, key: TestKey, carryKey: 'latency' | 'confidence' | 'predictions', v: number, n: { baseline: number; candidate: number }) {
  return {
    method: ctx.method,
    level: ctx.levels[key],
    logCarry: ctx.method === 'anytime' ? ctx.state.carry[carryKey] : 0,
    v,
    n,
    perCheck: { baseline: ctx.baselineInterval?.requests ?? 0, candidate: ctx.candidateInterval?.requests ?? 0 },
    intervalS: ctx.intervalS,
  };
}

function measurePredictions(ctx: Ctx): CanaryEvidence {
  const { baseline: b, candidate: c, thresholds: t } = ctx;
  const total = (x: number[]) => x.reduce((s, v) => s + (v ?? 0), 0);
  const nb = total(b.classCounts);
  const nc = total(c.classCounts);
  const n = { baseline: nb, candidate: nc };
  if (!ctx.baselineServes) return { n, gate: 'no_baseline', tests: [], effect: null, values: {}, mde: null, eta: null };
  if (nb === 0 && nc === 0 && b.latenciesMs.length >= t.min_samples && c.latenciesMs.length >= t.min_samples) {
    return { n, gate: 'not_classifier', tests: [], effect: null, values: {}, mde: null, eta: null };
  }
  if (nc < t.min_samples || nb < t.min_samples) return { n, gate: 'too_few', tests: [], effect: null, values: {}, mde: null, eta: etaNoTraffic(ctx) };
  const width = Math.max(b.classCounts.length, c.classCounts.length);
  const dense = (x: number[]) => Array.from({ length: width }, (_, i) => x[i] ?? 0);
  const chi = chiSquareHomogeneity(dense(b.classCounts), dense(c.classCounts));
  const r = chi.df > 0 ? ((nb + nc) * TAU.mix ** 2) / chi.df : 0;
  let logE: number | null = null;
  if (ctx.method === 'anytime') {
    const step = chiSquareMixtureLogE(chi.statistic, chi.df, r);
    ctx.state.current.predictions = step;
    logE = ctx.state.carry.predictions + step;
  }
  const test = testEvidence(ctx, 'predictions.mix', 'mix', chi.statistic, logE, chi.p);
  const { mde, eta } = predictionsMde({ ...mdeContext(ctx, 'predictions.mix', 'predictions', 0, n), df: chi.df, tau: TAU.mix, minV: t.min_cramers_v });
  return { n, gate: 'ok', tests: [test], effect: { estimate: chi.cramersV, low: null, high: null, unit: "Cramér's V" }, values: { cramers_v: chi.cramersV, df: chi.df }, mde, eta: noTraffic(ctx) ? etaNoTraffic(ctx) : eta };
}

function measureConfidence(ctx: Ctx): CanaryEvidence {
  const { baseline: b, candidate: c, thresholds: t } = ctx;
  const n = { baseline: b.confidences.length, candidate: c.confidences.length };
  if (!ctx.baselineServes) return { n, gate: 'no_baseline', tests: [], effect: null, values: {}, mde: null, eta: null };
  if (b.confidences.length === 0 && c.confidences.length === 0 && b.latenciesMs.length >= t.min_samples && c.latenciesMs.length >= t.min_samples) {
    return { n, gate: 'not_classifier', tests: [], effect: null, values: {}, mde: null, eta: null };
  }
  if (c.confidences.length < t.min_samples || b.confidences.length < t.min_samples) return { n, gate: 'too_few', tests: [], effect: null, values: {}, mde: null, eta: etaNoTraffic(ctx) };
  // "Candidate less confident" = baseline's scores stochastically greater than the candidate's.
  const s = shiftEvidence(ctx, 'confidence.shift', 'confidence', c.confidences, b.confidences);
  const { mde, eta } = latencyLikeMde({ ...mdeContext(ctx, 'confidence.shift', 'confidence', s.v, n), margin: t.confidence_effect_margin, what: 'confidence' });
  return {
    n,
    gate: 'ok',
    tests: [s.test],
    effect: { ...s.effect, unit: 'P(less confident)' },
    values: { baseline_median: quantile(b.confidences, 0.5), candidate_median: quantile(c.confidences, 0.5), p_lower: s.mw.effect },
    mde,
    eta: noTraffic(ctx) ? etaNoTraffic(ctx) : eta,
  };
}

/** The metric's baseline / candidate / statistic / p-value columns, as before the ledger. */
function displayValues(name: CanaryMetricName, ev: CanaryEvidence): Pick<CanaryMetricResult, 'baseline' | 'candidate' | 'statistic' | 'p_value'> {
  const v = ev.values;
  const main = ev.tests.at(-1);
  const test = main ? { statistic: main.statistic, p_value: main.p_value } : { statistic: null, p_value: null };
  switch (name) {
    case 'error_rate':
      return { baseline: ev.gate === 'no_baseline' ? null : v.baseline_rate!, candidate: v.candidate_rate!, ...test };
    case 'latency':
      return { baseline: v.baseline_p99 ?? null, candidate: v.candidate_p99 ?? null, ...test };
    case 'predictions':
      return ev.gate === 'ok' ? { baseline: 0, candidate: v.cramers_v!, ...test } : { baseline: null, candidate: null, statistic: null, p_value: null };
    default:
      return { baseline: v.baseline_median ?? null, candidate: v.candidate_median ?? null, ...test };
  }
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

function pv(test: CanaryTestEvidence): string {
  const p = test.p_value;
  const text = p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
  return test.e_value === null ? text : `always-valid ${text}, e=${fmtE(test.e_value)}`;
}

function fmtE(e: number): string {
  return e >= 1e4 ? e.toExponential(1) : e >= 10 ? e.toFixed(0) : e.toFixed(2);
}

/** Whether a test rejects "no regression" at its level. */
function rejects(test: CanaryTestEvidence | undefined, level: number): boolean {
  if (!test) return false;
  return test.e_value === null ? test.p_value < level : test.p_value <= level;
}

/**
 * A metric's verdict from its evidence at the given levels: what the check decided when it ran,
 * and what re-judging at another alpha decides. Nothing here reads samples.
 */
export function judge(name: CanaryMetricName, ev: CanaryEvidence, t: CanaryThresholds, levels: Record<TestKey, number>): { verdict: CanaryMetricResult['verdict']; reason: string } {
  const v = ev.values;
  const find = (n: CanaryTestEvidence['name']) => ev.tests.find((x) => x.name === n);
  switch (name) {
    case 'error_rate': {
      const cRate = v.candidate_rate!;
      const bRate = v.baseline_rate!;
      if (ev.gate === 'too_few') {
        return { verdict: 'inconclusive', reason: `too little traffic: ${ev.n.candidate} candidate / ${ev.n.baseline} baseline requests (need ${t.min_samples} each)` };
      }
      const limit = find('limit')!;
      if (rejects(limit, levels['error_rate.limit'])) {
        return { verdict: 'fail', reason: `candidate error rate ${pct(cRate)} is above the ${pct(t.max_error_rate)} limit (z=${limit.statistic.toFixed(1)}, ${pv(limit)})` };
      }
      if (ev.gate === 'no_baseline') return { verdict: 'pass', reason: `candidate error rate ${pct(cRate)} is within the ${pct(t.max_error_rate)} limit (no baseline traffic to compare)` };
      const rel = find('relative')!;
      // Worse by the test *and* by a margin that matters (a significant 0.10% vs 0.11% is no regression).
      // The classic "more than 2× baseline" rule flags a true doubling only half the time (the observed
      // ratio of a true 2× lands below 2 as often as above); significance plus a smaller margin does not.
      if (rejects(rel, levels['error_rate.relative']) && cRate >= v.floor!) {
        return { verdict: 'fail', reason: `candidate error rate ${pct(cRate)} vs ${pct(bRate)} is significantly higher (z=${rel.statistic.toFixed(1)}, ${pv(rel)}; ${(cRate / Math.max(bRate, 1e-9)).toFixed(1)}× baseline)` };
      }
      return { verdict: 'pass', reason: `candidate error rate ${pct(cRate)} vs ${pct(bRate)} (${pv(rel)}): no significant increase` };
    }
    case 'latency': {
      if (ev.gate === 'too_few') return { verdict: 'inconclusive', reason: `too few successful requests to compare latency (${ev.n.candidate} candidate / ${ev.n.baseline} baseline, need ${t.min_samples})` };
      const cP99 = v.candidate_p99!;
      if (ev.gate === 'no_baseline') {
        const fail = cP99 > t.max_p99_ms;
        return { verdict: fail ? 'fail' : 'pass', reason: `candidate p99 ${ms(cP99)} ${fail ? 'is above' : 'is within'} the ${ms(t.max_p99_ms)} limit (baseline serves no traffic at 100%)` };
      }
      const bP99 = v.baseline_p99!;
      const test = find('shift')!;
      const sig = rejects(test, levels['latency.shift']);
      if (sig && v.p_slower! > 0.5 + t.latency_effect_margin) {
        return { verdict: 'fail', reason: `candidate is slower: P(slower)=${v.p_slower!.toFixed(2)} (z=${test.statistic.toFixed(1)}, ${pv(test)}); p99 ${ms(cP99)} vs ${ms(bP99)}` };
      }
      // The p99 limits count only together with a significant shift: a lone p99 is too noisy to trust.
      if (sig && (cP99 > t.max_p99_ms || cP99 > bP99 * t.max_p99_ratio)) {
        return { verdict: 'fail', reason: `candidate p99 ${ms(cP99)} vs ${ms(bP99)} exceeds ${cP99 > t.max_p99_ms ? `the ${ms(t.max_p99_ms)} limit` : `${t.max_p99_ratio}× baseline`}, with a significant shift (${pv(test)})` };
      }
      return { verdict: 'pass', reason: `no meaningful slowdown: P(slower)=${v.p_slower!.toFixed(2)} (${pv(test)}); p99 ${ms(cP99)} vs ${ms(bP99)}` };
    }
    case 'predictions': {
      if (ev.gate === 'no_baseline') return { verdict: 'pass', reason: 'baseline serves no traffic at 100%: nothing to compare' };
      if (ev.gate === 'not_classifier') return { verdict: 'pass', reason: 'the model is not a classifier (no class output): nothing to compare' };
      if (ev.gate === 'too_few') return { verdict: 'inconclusive', reason: `too few predictions to compare (${ev.n.candidate} candidate / ${ev.n.baseline} baseline, need ${t.min_samples})` };
      const test = find('mix')!;
      if (rejects(test, levels['predictions.mix']) && v.cramers_v! >= t.min_cramers_v) {
        return { verdict: 'fail', reason: `candidate predicts a different class mix: Cramér's V=${v.cramers_v!.toFixed(2)} (χ²=${test.statistic.toFixed(1)}, df=${v.df}, ${pv(test)})` };
      }
      return { verdict: 'pass', reason: `same class mix: Cramér's V=${v.cramers_v!.toFixed(2)} (${pv(test)})` };
    }
    case 'confidence': {
      if (ev.gate === 'no_baseline') return { verdict: 'pass', reason: 'baseline serves no traffic at 100%: nothing to compare' };
      if (ev.gate === 'not_classifier') return { verdict: 'pass', reason: 'the model is not a classifier (no scores): nothing to compare' };
      if (ev.gate === 'too_few') return { verdict: 'inconclusive', reason: `too few scored predictions (${ev.n.candidate} candidate / ${ev.n.baseline} baseline, need ${t.min_samples})` };
      const test = find('shift')!;
      const cMed = v.candidate_median!;
      const bMed = v.baseline_median!;
      if (rejects(test, levels['confidence.shift']) && v.p_lower! > 0.5 + t.confidence_effect_margin) {
        return { verdict: 'fail', reason: `candidate is less confident: median top-1 ${cMed.toFixed(3)} vs ${bMed.toFixed(3)} (P(lower)=${v.p_lower!.toFixed(2)}, ${pv(test)})` };
      }
      return { verdict: 'pass', reason: `confidence holds: median top-1 ${cMed.toFixed(3)} vs ${bMed.toFixed(3)} (${pv(test)})` };
    }
    default:
      throw new Error(`no evidence-based judgement for ${name}`);
  }
}

function breaker({ candidateBreakerOpened }: CheckInput): CanaryMetricResult {
  const base = { name: 'breaker' as const, baseline: null, candidate: null, statistic: null, p_value: null };
  return candidateBreakerOpened
    ? { ...base, verdict: 'fail', reason: "the candidate's circuit breaker opened" }
    : { ...base, verdict: 'pass', reason: "the candidate's circuit breaker stayed closed" };
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
  /** No planned number of checks: a step is held until every critical metric could see the smallest regression that counts. */
  openEnded?: boolean;
  /**
   * false at 100 %: the baseline serves nothing, so no comparison can gain evidence; an open-ended
   * canary then holds the step for `checksPerStep` conclusive checks of the absolute limits.
   */
  baselineServes?: boolean;
}

/** Whether every critical metric's check could have seen the smallest regression that counts. */
export function sufficient(metrics: CanaryMetricResult[], critical: CanaryMetricName[]): boolean {
  return metrics.filter((m) => critical.includes(m.name) && m.evidence && m.evidence.gate === 'ok').every((m) => m.evidence!.mde?.sufficient ?? true);
}

export function decide(d: DecisionInput): { decision: CheckDecision; reason: string } {
  const critical = d.metrics.filter((m) => d.critical.includes(m.name));
  const failed = critical.filter((m) => m.verdict === 'fail');
  if (failed.length) return { decision: 'rollback', reason: failed.map((m) => `${m.name}: ${m.reason}`).join('; ') };
  const unsure = critical.filter((m) => m.verdict === 'inconclusive');
  if (unsure.length) {
    if (d.inconclusiveChecks > d.maxInconclusive) {
      // Worded as the README states the rule: `max_inconclusive_checks` are tolerated, the next one rolls back.
      return { decision: 'rollback', reason: `not enough traffic to judge the candidate after ${d.inconclusiveChecks} inconclusive checks, more than max_inconclusive_checks (${d.maxInconclusive}) (${unsure.map((m) => m.name).join(', ')})` };
    }
    return { decision: 'continue', reason: `waiting for traffic: ${unsure.map((m) => `${m.name} (${m.reason})`).join('; ')}` };
  }
  if (d.openEnded && d.baselineServes !== false) {
    if (!sufficient(d.metrics, d.critical)) {
      const short = critical.filter((m) => m.evidence?.mde && !m.evidence.mde.sufficient).map((m) => `${m.name} (${m.evidence!.eta?.text ?? m.evidence!.mde!.text})`);
      return { decision: 'continue', reason: `all metrics pass; holding the step until the smallest regression that counts is visible: ${short.join('; ')}` };
    }
    if (d.isLastStep) return { decision: 'promote', reason: 'every metric passed at every step, each with enough evidence to see the smallest regression that counts' };
    return { decision: 'next_step', reason: 'all metrics pass with enough evidence; moving to the next step' };
  }
  if (d.checkInStep + 1 < d.checksPerStep) return { decision: 'continue', reason: 'all metrics pass; holding the step' };
  if (d.isLastStep) return { decision: 'promote', reason: 'every metric passed at every step' };
  return { decision: 'next_step', reason: 'all metrics pass; moving to the next step' };
}
