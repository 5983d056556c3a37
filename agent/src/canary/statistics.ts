// The tests the canary analysis uses. Pure functions, no dependencies; normal approximations
// where the samples are large enough for them (the analysis requires a minimum sample size).
import { nearestRank } from '../../../common/nearestRank.js';

/** Upper tail of the standard normal, P(Z > z). erfc by W. J. Cody's rational approximations. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc: fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface TestResult {
  statistic: number;
  /** One-sided p-value in the direction named by the function. */
  p: number;
}

/** Two-proportion z-test (pooled): is the candidate's rate x2/n2 greater than x1/n1? */
export function twoProportionGreater(x1: number, n1: number, x2: number, n2: number): TestResult {
  if (n1 === 0 || n2 === 0) return { statistic: 0, p: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { statistic: 0, p: x2 / n2 > x1 / n1 ? 0 : 1 };
  const z = (x2 / n2 - x1 / n1) / se;
  return { statistic: z, p: normalSf(z) };
}

/** One-sample test: is the rate x/n greater than p0? (Normal approximation to the binomial.) */
export function proportionGreaterThan(x: number, n: number, p0: number): TestResult {
  if (n === 0) return { statistic: 0, p: 1 };
  const z = (x / n - p0) / Math.sqrt((p0 * (1 - p0)) / n);
  return { statistic: z, p: normalSf(z) };
}

export interface MannWhitneyResult extends TestResult {
  u: number;
  /** Common-language effect size: P(b > a) + ½ P(b = a); 0.5 means no shift. */
  effect: number;
  /** Variance of U under "no shift" (tie-corrected). */
  variance: number;
}

/**
 * Mann-Whitney U: is sample b stochastically greater than sample a? Normal approximation with the
 * tie correction; U counts pairs where b > a (ties ½).
 */
export function mannWhitneyGreater(a: number[], b: number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { statistic: 0, p: 1, u: 0, effect: 0.5, variance: 0 };
  // Both samples sorted as typed arrays (numeric sort, no comparator: fast), then merged run by run.
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  let rankSumB = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  let rank = 0; // ranks used so far
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && sa[i]! < sb[j]!) ? sa[i]! : sb[j]!;
    let ta = 0;
    let tb = 0;
    while (i < n1 && sa[i] === v) (i++, ta++);
    while (j < n2 && sb[j] === v) (j++, tb++);
    const t = ta + tb;
    if (t > 1) tieTerm += t * t * t - t;
    rankSumB += tb * (rank + (t + 1) / 2);
    rank += t;
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const effect = u / (n1 * n2);
  if (variance <= 1e-12) return { statistic: 0, p: 1, u, effect, variance: 0 };
  // Continuity correction toward the mean.
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { statistic: z, p: normalSf(z), u, effect, variance };
}

/** Regularized upper incomplete gamma Q(a, x) (Numerical Recipes gammq). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let s = c[0]!;
  for (let i = 1; i < 9; i++) s += c[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

export interface ChiSquareResult extends TestResult {
  df: number;
  /** Cramér's V: 0 = same distribution, 1 = completely different. */
  cramersV: number;
}

/** Chi-square test of homogeneity of two count vectors (categories with no counts are dropped). */
export function chiSquareHomogeneity(a: number[], b: number[]): ChiSquareResult {
  const cats = a.map((_, i) => i).filter((i) => (a[i] ?? 0) + (b[i] ?? 0) > 0);
  const na = cats.reduce((s, i) => s + a[i]!, 0);
  const nb = cats.reduce((s, i) => s + (b[i] ?? 0), 0);
  const n = na + nb;
  if (cats.length < 2 || na === 0 || nb === 0) return { statistic: 0, p: 1, df: 0, cramersV: 0 };
  let chi2 = 0;
  for (const i of cats) {
    const total = a[i]! + (b[i] ?? 0);
    const ea = (total * na) / n;
    const eb = (total * nb) / n;
    chi2 += (a[i]! - ea) ** 2 / ea + ((b[i] ?? 0) - eb) ** 2 / eb;
  }
  const df = cats.length - 1;
  return { statistic: chi2, p: gammaQ(df / 2, chi2 / 2), df, cramersV: Math.sqrt(chi2 / n) };
}

/** The q-quantile (0..1) by the nearest-rank method. */
export function quantile(values: number[], q: number): number {
  return nearestRank(Array.from(Float64Array.from(values).sort()), q);
}
