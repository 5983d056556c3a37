// Anytime-valid tests: each is a nonnegative (super)martingale under the null hypothesis, an
// e-process E_t with E[E_0] = 1, so by Ville's inequality (Ville 1939)
//     P(sup_t E_t ≥ 1/alpha) ≤ alpha
// however many times, and whenever, it is looked at. A canary can therefore check as often as it
// likes, and run without a planned number of checks, at one fixed level per test. The always-valid
// p-value is 1 / (largest E so far). Pure functions; everything in log space (E can be huge).
//
//  - Normal mixture (Robbins 1970, "Statistical methods related to the law of the iterated
//    logarithm"; the mixture SPRT of Johari, Koomen, Pekelis & Walsh 2017, "Peeking at A/B tests",
//    KDD, and Operations Research 2022): an asymptotically normal estimate θ̂ with variance V, and
//    a N(0, τ²) mixture over the effect θ, gives
//        Λ = (1 + r)^(-1/2) · exp(z² r / (2(1 + r))),  z = θ̂/√V,  r = τ²/V.
//    One-sided (a half-normal mixture over θ > 0: only a *worse* candidate is evidence):
//        Λ = 2 (1 + r)^(-1/2) · exp(z² r / (2(1 + r))) · Φ(z √(r/(1+r))).
//  - Its multivariate form for a chi-square statistic with d degrees of freedom (an isotropic normal
//    mixture over the d-dimensional standardized effect; the same integral d times):
//        Λ = (1 + r)^(-d/2) · exp(χ² r / (2(1 + r))),  r = N τ² / d.
//    The error-rate difference uses it on the two-proportion z over everything the canary has
//    served (the mSPRT for conversion rates of Johari et al.), on the standardized scale: r = τ²·n,
//    n = 1 / (1/n_baseline + 1/n_candidate). Normal-approximate, as their A/B tests are; the seeded
//    simulations (test/unit/canarySequential.test.ts, bench:canary) check it at 1 % error rates.
//  - Bernoulli mixture SPRT against an absolute limit p0 (Wald 1945's likelihood ratio, mixed over a
//    few alternatives above p0): a supermartingale for every true rate ≤ p0.
//
// Each step of a canary is a fresh sample for latency, predictions and confidence: the e-process of
// a finished step is multiplied into the next one ("optional continuation": the product of
// e-processes each started when the previous stopped is again an e-process; Grünwald, de Heide &
// Koolen 2024, "Safe testing", JRSS B). Error counts run over the whole canary.
import { normalSf } from './statistics.js';

const LN2 = Math.LN2;

/** log Φ(x), stable for very negative x. */
function logNormalCdf(x: number): number {
  if (x > -5) return Math.log(Math.max(1e-300, 1 - normalSf(x)));
  // Mills ratio asymptotics: Φ(x) ≈ φ(x)/|x| · (1 − 1/x² + 3/x⁴)
  return -0.5 * x * x - Math.log(-x) - 0.5 * Math.log(2 * Math.PI) + Math.log(1 - 1 / (x * x) + 3 / x ** 4);
}

/** log of the normal-mixture likelihood ratio (mSPRT) for a standardized statistic z and r = τ²/V. */
export function normalMixtureLogE(z: number, r: number, oneSided: boolean): number {
  if (!(r > 0) || !Number.isFinite(z)) return 0;
  const base = -0.5 * Math.log1p(r) + (z * z * r) / (2 * (1 + r));
  return oneSided ? LN2 + base + logNormalCdf(z * Math.sqrt(r / (1 + r))) : base;
}

/** log of the chi-square (multivariate normal) mixture likelihood ratio, r = N τ² / d. */
export function chiSquareMixtureLogE(chi2: number, df: number, r: number): number {
  if (!(r > 0) || df < 1) return 0;
  return -(df / 2) * Math.log1p(r) + (chi2 * r) / (2 * (1 + r));
}

/** Smallest z ≥ 0 at which the one-sided normal mixture reaches logTarget (bisection; Λ grows with z). */
export function neededZ(logTarget: number, r: number): number {
  if (!(r > 0)) return Infinity;
  if (normalMixtureLogE(0, r, true) >= logTarget) return 0;
  let lo = 0;
  let hi = 1;
  while (normalMixtureLogE(hi, r, true) < logTarget) {
    hi *= 2;
    if (hi > 1e6) return Infinity;
  }
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (normalMixtureLogE(mid, r, true) >= logTarget) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The chi-square at which the chi-square mixture reaches logTarget (closed form). */
export function neededChiSquare(logTarget: number, df: number, r: number): number {
  if (!(r > 0) || df < 1) return Infinity;
  return Math.max(0, ((2 * (1 + r)) / r) * (logTarget + (df / 2) * Math.log1p(r)));
}

/**
 * Half-width, in z units, of the anytime-valid (1 − alpha) confidence sequence from the two-sided
 * normal mixture (Robbins 1970): θ̂ ± √V · √((1+r)/r · (2 ln(1/alpha) + ln(1+r))).
 */
export function confidenceSequenceZ(alpha: number, r: number): number {
  if (!(r > 0)) return Infinity;
  return Math.sqrt(((1 + r) / r) * (2 * Math.log(1 / alpha) + Math.log1p(r)));
}

export function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** A mixture over a grid of simple alternatives: log prior weights and log likelihood ratios so far. */
export interface GridMixture {
  logWeights: number[];
  logLr: number[];
}

export function gridMixture(weights: number[]): GridMixture {
  const total = weights.reduce((s, w) => s + w, 0);
  return { logWeights: weights.map((w) => Math.log(w / total)), logLr: weights.map(() => 0) };
}

export function gridLogE(m: GridMixture): number {
  return logSumExp(m.logLr.map((l, i) => l + m.logWeights[i]!));
}

/** Multiples of the absolute limit p0 the limit test mixes over (equal weights). */
export const LIMIT_MULTIPLES = [1.5, 2, 4];

export function limitAlternatives(p0: number): number[] {
  return LIMIT_MULTIPLES.map((k) => Math.min(0.999, p0 * k)).filter((p) => p > p0);
}

/** Adds n Bernoulli trials with x events to the limit mixture (alternatives p1 > p0). */
export function updateLimit(m: GridMixture, p0: number, n: number, x: number): GridMixture {
  const alts = limitAlternatives(p0);
  return { ...m, logLr: m.logLr.map((l, i) => (alts[i] === undefined ? l : l + x * Math.log(alts[i]! / p0) + (n - x) * Math.log((1 - alts[i]!) / (1 - p0)))) };
}
