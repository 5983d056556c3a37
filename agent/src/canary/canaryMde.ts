// What a check can see, and when it will see enough: per metric, the minimum detectable effect
// (MDE) at the current sample size — the regression whose *expected* evidence would just reach the
// test's bar now (about even odds of catching it at this check) — and an ETA: further checks at the
// current request rate until the smallest regression that counts (the thresholds' margins) is
// detectable. Pure; used by the analysis, shown in the ledger, the panel and the report.
import type { CanaryEvidence, CanaryMethod } from '../../../common/api.js';
import { neededChiSquare, neededZ } from './sequential.js';
import { gammaQ, normalSf } from './statistics.js';

type Mde = CanaryEvidence['mde'];
type Eta = CanaryEvidence['eta'];

/** Checks the ETA looks ahead at most. */
export const ETA_HORIZON = 10_000;
const ETA_HORIZON_TEXT = '10,000';

/** Φ⁻¹(p) by bisection on the normal tail (accurate to the tail's 1.2e-7). */
export function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (1 - normalSf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The chi-square upper-tail critical value for `level` with df degrees of freedom. */
export function chiSquareQuantileUpper(level: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (gammaQ(df / 2, hi / 2) > level) hi *= 2;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (gammaQ(df / 2, mid / 2) > level) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Smallest k in 1..ETA_HORIZON with ok(k), for ok monotone in k; null if none. */
function firstK(ok: (k: number) => boolean): number | null {
  let hi = 1;
  while (!ok(hi)) {
    if (hi >= ETA_HORIZON) return null;
    hi = Math.min(ETA_HORIZON, hi * 2);
  }
  let lo = Math.floor(hi / 2);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const rateText = (perS: number) => `${perS >= 10 ? perS.toFixed(0) : perS.toFixed(1)} req/s`;
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

function etaText(checks: number | null, perS: number, target: string): Eta {
  if (perS === 0) return { checks: null, requests_per_s: 0, text: 'no traffic since the last check: send requests to the model (Inferscope: Send Test Traffic) or the canary cannot decide' };
  if (checks === 0) return { checks: 0, requests_per_s: perS, text: `already sees ${target}` };
  if (checks === null) return { checks: null, requests_per_s: perS, text: `not within ${ETA_HORIZON_TEXT} checks at ${rateText(perS)} to see ${target}` };
  return { checks, requests_per_s: perS, text: `about ${checks} more check${checks === 1 ? '' : 's'} at ${rateText(perS)} to see ${target}` };
}

export interface ShiftMdeInput {
  method: CanaryMethod;
  level: number;
  /** anytime: log e carried from earlier steps (the bar for this step is lower by it). */
  logCarry: number;
  /** Variance of the effect estimate P(greater) now. */
  v: number;
  n: { baseline: number; candidate: number };
  /** Requests per version in the last interval (the rate ahead). */
  perCheck: { baseline: number; candidate: number };
  intervalS: number;
  margin: number;
  /** Latency: the baseline's latencies, to say the effect as a % slowdown. */
  baselineSample?: number[];
  what: 'latency' | 'confidence';
  tau?: number;
}

/** Latency and confidence (rank tests): MDE in P(slower) / P(less confident), and as a % slowdown. */
export function latencyLikeMde(i: ShiftMdeInput): { mde: Mde; eta: Eta } {
  const tau = i.tau ?? 0.1;
  const logTarget = Math.log(1 / i.level) - i.logCarry;
  const needed = (v: number) => (i.method === 'anytime' ? neededZ(logTarget, tau * tau / v) : normalQuantile(1 - i.level)) * Math.sqrt(v);
  const theta = i.v > 0 ? needed(i.v) : Infinity;
  const effect = 0.5 + Math.max(theta, i.margin);
  const unit = i.what === 'latency' ? 'P(slower)' : 'P(less confident)';
  let text = `can detect ${unit} ≥ ${effect.toFixed(2)} now`;
  if (i.what === 'latency' && i.baselineSample?.length && Number.isFinite(effect)) {
    text = `can detect +${Math.round((slowdownFor(i.baselineSample, Math.min(effect, 0.999)) - 1) * 100)}% latency now (${unit} ≥ ${effect.toFixed(2)})`;
  }
  const mde: Mde = { effect, unit, text, sufficient: theta <= i.margin };
  // Projected: the variance shrinks like (n1+n2+1)/(n1·n2), ties and all.
  const shape = (n1: number, n2: number) => (n1 + n2 + 1) / (12 * n1 * n2);
  const scale = i.v / shape(i.n.baseline, i.n.candidate);
  const perS = (i.perCheck.baseline + i.perCheck.candidate) / i.intervalS;
  const target = `${unit} > ${(0.5 + i.margin).toFixed(2)}`;
  if (mde.sufficient) return { mde, eta: etaText(0, perS, target) };
  if (i.perCheck.candidate === 0 || i.perCheck.baseline === 0) return { mde, eta: etaText(null, perS === 0 ? 0 : perS, target) };
  const k = firstK((k) => needed(scale * shape(i.n.baseline + k * i.perCheck.baseline, i.n.candidate + k * i.perCheck.candidate)) <= i.margin);
  return { mde, eta: etaText(k, perS, target) };
}

/** The factor s for which P(s·X' > X) = auc, X and X' drawn from the sample: the slowdown an effect means. */
export function slowdownFor(sample: number[], auc: number): number {
  const step = Math.max(1, Math.floor(sample.length / 400));
  const x = sample.filter((_, j) => j % step === 0).sort((a, b) => a - b);
  const n = x.length;
  const aucAt = (s: number) => {
    let lo = 0; // first index with x ≥ s·x_j
    let hi = 0; // first index with x > s·x_j
    let total = 0;
    for (let j = 0; j < n; j++) {
      const y = s * x[j]!;
      while (lo < n && x[lo]! < y) lo++;
      while (hi < n && x[hi]! <= y) hi++;
      total += lo + (hi - lo) / 2;
    }
    return total / (n * n);
  };
  let lo = 1;
  let hi = 2;
  while (aucAt(hi) < auc && hi < 1e3) hi *= 2;
  for (let k = 0; k < 25; k++) {
    const mid = (lo + hi) / 2;
    if (aucAt(mid) < auc) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface PredictionsMdeInput {
  method: CanaryMethod;
  level: number;
  logCarry: number;
  n: { baseline: number; candidate: number };
  perCheck: { baseline: number; candidate: number };
  intervalS: number;
  df: number;
  tau: number;
  minV: number;
}

/** Class mix: MDE in Cramér's V. */
export function predictionsMde(i: PredictionsMdeInput): { mde: Mde; eta: Eta } {
  const logTarget = Math.log(1 / i.level) - i.logCarry;
  const neededV = (total: number) => {
    if (i.df < 1 || total === 0) return Infinity;
    const chi2 = i.method === 'anytime' ? neededChiSquare(logTarget, i.df, (total * i.tau * i.tau) / i.df) : chiSquareQuantileUpper(i.level, i.df);
    return Math.sqrt(chi2 / total);
  };
  const total = i.n.baseline + i.n.candidate;
  const v = neededV(total);
  const mde: Mde = { effect: Math.max(v, i.minV), unit: "Cramér's V", text: `can detect Cramér's V ≥ ${Math.max(v, i.minV).toFixed(2)} in the class mix now`, sufficient: v <= i.minV };
  const per = i.perCheck.baseline + i.perCheck.candidate;
  const perS = per / i.intervalS;
  const target = `Cramér's V ≥ ${i.minV}`;
  if (mde.sufficient) return { mde, eta: etaText(0, perS, target) };
  if (i.perCheck.candidate === 0 || i.perCheck.baseline === 0) return { mde, eta: etaText(null, perS, target) };
  return { mde, eta: etaText(firstK((k) => neededV(total + k * per) <= i.minV), perS, target) };
}

export interface ErrorMdeInput {
  method: CanaryMethod;
  level: number;
  /** The mixture scale of the anytime test, standardized (see canaryAnalysis TAU). */
  tau: number;
  baselineRate: number;
  /** Requests per version over the whole canary. */
  n: { baseline: number; candidate: number };
  /** Requests per version in the last interval (the rate ahead). */
  interval: { baseline: number; candidate: number };
  intervalS: number;
  /** The smallest candidate rate that counts as a regression. */
  floor: number;
}

/** Error rate: MDE as the smallest candidate error rate (and its ratio to the baseline's). */
export function errorRateMde(i: ErrorMdeInput): { mde: Mde; eta: Eta } {
  const b = i.baselineRate;
  const zCrit = i.method === 'anytime' ? 0 : normalQuantile(1 - i.level);
  /** The smallest candidate rate whose expected z reaches the test's bar with nb / nc requests. */
  const smallest = (nb: number, nc: number) => {
    if (nb === 0 || nc === 0) return Infinity;
    const z = i.method === 'anytime' ? neededZ(Math.log(1 / i.level), (i.tau * i.tau) / (1 / nb + 1 / nc)) : zCrit;
    const reaches = (c: number) => {
      const pooled = (b * nb + c * nc) / (nb + nc);
      const se = Math.sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc));
      return se > 0 && (c - b) / se >= z;
    };
    if (!reaches(1)) return Infinity;
    let lo = b;
    let hi = 1;
    for (let k = 0; k < 40; k++) {
      const mid = (lo + hi) / 2;
      if (reaches(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  const c = smallest(i.n.baseline, i.n.candidate);
  const text = !Number.isFinite(c)
    ? 'cannot detect any error rate yet (too few requests)'
    : b > 0
      ? `can detect ${(c / b).toFixed(1)}× the baseline's error rate (${pct(b)} → ${pct(c)}) now`
      : `can detect an error rate of ${pct(c)} now (the baseline had none)`;
  const mde: Mde = { effect: c, unit: 'candidate error rate', text, sufficient: c <= i.floor };
  const perS = (i.interval.baseline + i.interval.candidate) / i.intervalS;
  const target = b > 0 ? `${(i.floor / b).toFixed(2)}× errors (${pct(i.floor)})` : `an error rate of ${pct(i.floor)}`;
  if (mde.sufficient) return { mde, eta: etaText(0, perS, target) };
  if (i.interval.candidate === 0) return { mde, eta: etaText(null, perS, target) };
  const k = firstK((k) => smallest(i.n.baseline + k * i.interval.baseline, i.n.candidate + k * i.interval.candidate) <= i.floor);
  return { mde, eta: etaText(k, perS, target) };
}
