// The oracle bound of bench:canary: how soon could *any* canary with the false-rollback guarantee
// catch a raised error rate on this traffic? Pure (exact binomial sums, no sampling).
//
// The oracle knows everything a real canary does not: the baseline's error rate p0 and the
// candidate's p1, and it gets the whole alpha for the error rate. At check k it sees n_c(k)
// candidate requests (a sum of binomial routings, one per check at that step's weight) with X_c(k)
// errors; the baseline's requests, latencies and predictions are distributed alike under both
// hypotheses, so they carry no evidence. The most powerful level-alpha test of p0 against p1 on
// that data (Neyman & Pearson 1933, randomized where the counts are discrete) has power β_k.
//
// The bound: let T be the check at which a procedure rolls back (∞ if never), with
// P0(T < ∞) ≤ alpha. For every k, "reject iff T ≤ k" is a level-alpha test on the first k checks,
// so P1(T ≤ k) ≤ β_k. A procedure that catches q = P1(T ≤ K) within K checks has
//     E1[T | T ≤ K] = Σ_{k=0}^{K−1} P1(T > k | T ≤ K) = K − (1/q) Σ_{k=1}^{K−1} P1(T ≤ k)
//                   ≥ K − (1/q) Σ_{k=1}^{K−1} min(β_k, q)                                  (*)
// and (*) grows with q, so it also bounds every procedure that catches at least q. It is generous:
// no single procedure reaches β_k at every k at once.

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X = x) for X ~ Binomial(n, p), 0 < p < 1. */
export function binomialPmf(x: number, n: number, p: number): number {
  if (x < 0 || x > n) return 0;
  if (p <= 0) return x === 0 ? 1 : 0;
  if (p >= 1) return x === n ? 1 : 0;
  return Math.exp(logGamma(n + 1) - logGamma(x + 1) - logGamma(n - x + 1) + x * Math.log(p) + (n - x) * Math.log1p(-p));
}

/** A distribution on 0..n as a dense array of probabilities. */
export type Pmf = Float64Array;

export function binomialDist(n: number, p: number): Pmf {
  const out = new Float64Array(n + 1);
  for (let x = 0; x <= n; x++) out[x] = binomialPmf(x, n, p);
  return out;
}

export function convolve(a: Pmf, b: Pmf): Pmf {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    if (ai < 1e-18) continue;
    for (let j = 0; j < b.length; j++) out[i + j]! += ai * b[j]!;
  }
  return out;
}

/** One outcome of the data: its probability under H0 and H1, and its log likelihood ratio. */
export interface Cell {
  p0: number;
  p1: number;
  llr: number;
}

/**
 * Power of the most powerful level-alpha test of H0 against H1 (Neyman–Pearson): reject the
 * outcomes of largest likelihood ratio first, randomizing on the group where the level runs out.
 */
export function neymanPearsonPower(cells: Cell[], alpha: number): number {
  const sorted = [...cells].sort((a, b) => b.llr - a.llr);
  let size = 0;
  let power = 0;
  for (let i = 0; i < sorted.length; ) {
    // Outcomes with the same ratio are one group: the test cannot tell them apart.
    let g0 = 0;
    let g1 = 0;
    let j = i;
    for (; j < sorted.length && Math.abs(sorted[j]!.llr - sorted[i]!.llr) <= 1e-9 * Math.max(1, Math.abs(sorted[i]!.llr)); j++) {
      g0 += sorted[j]!.p0;
      g1 += sorted[j]!.p1;
    }
    if (size + g0 >= alpha) return power + (g0 > 0 ? ((alpha - size) / g0) * g1 : g1);
    size += g0;
    power += g1;
    i = j;
  }
  return power;
}

/** The exact binomial test's cells: X ~ Bin(n, p0) under H0, Bin(n, p1) under H1. */
export function binomialCells(n: number, p0: number, p1: number, weight = 1): Cell[] {
  const up = Math.log(p1 / p0);
  const down = Math.log((1 - p1) / (1 - p0));
  const sd = Math.sqrt(n * Math.max(p0, p1));
  const hi = Math.min(n, Math.ceil(n * Math.max(p0, p1) + 14 * sd + 20));
  const cells: Cell[] = [];
  for (let x = 0; x <= hi; x++) {
    const c = { p0: weight * binomialPmf(x, n, p0), p1: weight * binomialPmf(x, n, p1), llr: x * up + (n - x) * down };
    if (c.p0 > 1e-18 || c.p1 > 1e-18) cells.push(c);
  }
  return cells;
}

export interface Plan {
  /** Candidate weight (%) of each step. */
  steps: number[];
  checksPerStep: number;
  requestsPerCheck: number;
}

/** β_k for k = 1..K: power of the most powerful level-alpha test of p0 vs p1 on the candidate's errors at check k alone. */
export function oraclePowers(plan: Plan, p0: number, p1: number, alpha: number): number[] {
  const powers: number[] = [];
  let routed: Pmf = Float64Array.of(1); // distribution of the candidate's request count so far
  for (const weight of plan.steps) {
    for (let c = 0; c < plan.checksPerStep; c++) {
      routed = trim(convolve(routed, binomialDist(plan.requestsPerCheck, weight / 100)));
      const cells: Cell[] = [];
      routed.forEach((q, n) => {
        if (q > 1e-15) cells.push(...binomialCells(n, p0, p1, q));
      });
      powers.push(neymanPearsonPower(cells, alpha));
    }
  }
  return powers;
}

/** Zeroes negligible mass so the next convolutions skip it. */
function trim(p: Pmf): Pmf {
  for (let i = 0; i < p.length; i++) if (p[i]! < 1e-18) p[i] = 0;
  return p;
}

/** (*) above: the least mean number of checks to a rollback of any procedure that catches q within powers.length checks. */
export function meanChecksBound(powers: number[], q: number): number {
  const K = powers.length;
  if (!(q > 0) || q > powers[K - 1]! + 1e-12) return NaN; // no level-alpha procedure catches that many
  let s = 0;
  for (let k = 0; k < K - 1; k++) s += Math.min(powers[k]!, q);
  return K - s / q;
}

// ---- A tighter bound: the best sequential procedure for the known rates ----
//
// (*) lets every check have its own most powerful test; one procedure cannot. The best one solves
// an optimal stopping problem. For multipliers μ, λ ≥ 0 and any procedure (reject at T ≤ K or never):
//     E1[T; T ≤ K] − μ P1(T ≤ K) + λ P0(T ≤ K) = E1[Σ_k 1{T = k} (k − μ + λ e^(−ℓ_k))] ≥ V_0(μ, λ),
// ℓ_k the log likelihood ratio of the candidate's errors at check k (P0(A) = E1[e^(−ℓ) 1_A]), and
// V_0 the least value of that cost over all stopping rules, by backward induction on ℓ, a Markov
// chain with independent increments under H1 (the routing and the errors of each check do not
// depend on the past):  V_K(ℓ) = min(K − μ + λ e^(−ℓ), 0),  V_k(ℓ) = min(k − μ + λ e^(−ℓ), E1 V_{k+1}(ℓ + Δ_{k+1})).
// With P0(T ≤ K) ≤ alpha and q' = P1(T ≤ K) ≥ q:
//     E1[T | T ≤ K] ≥ μ + (V_0 − λ alpha)/q'  ≥  μ + min((V_0 − λ alpha)/q, V_0 − λ alpha)        (**)
// for every μ, λ (weak duality; the best pair found is reported). Computed on a grid of ℓ with each
// increment rounded *up*: V is nonincreasing in ℓ, so the rounded chain's V_0 is a lower bound of
// the exact one, and (**) stays a bound (beyond the grid's top, V_k ≥ min(k − μ, 0) is used).

interface Kernel {
  /** Grid offsets (increments rounded up to the grid) and their H1 probabilities. */
  offsets: Int32Array;
  probs: Float64Array;
}

function incrementKernel(requests: number, weight: number, p0: number, p1: number, h: number): Kernel {
  const a = Math.log(p1 / p0) - Math.log((1 - p1) / (1 - p0));
  const b = Math.log((1 - p1) / (1 - p0));
  const routed = binomialDist(requests, weight / 100);
  const acc = new Map<number, number>();
  routed.forEach((q, n) => {
    if (q < 1e-14) return;
    for (const c of binomialCells(n, p0, p1, q)) {
      if (c.p1 < 1e-16) continue;
      const x = Math.round((c.llr - n * b) / a);
      const off = Math.ceil((x * a + n * b) / h - 1e-9);
      acc.set(off, (acc.get(off) ?? 0) + c.p1);
    }
  });
  const keys = [...acc.keys()];
  return { offsets: Int32Array.from(keys), probs: Float64Array.from(keys.map((k) => acc.get(k)!)) };
}

export interface SequentialBoundOptions {
  /** Grid step of ℓ (default 0.01) and its range (default −20 … 30). */
  h?: number;
  low?: number;
  high?: number;
}

/** The kernels of every check, built once for many (μ, λ). */
export function sequentialBoundSetup(plan: Plan, p0: number, p1: number, o: SequentialBoundOptions = {}) {
  const h = o.h ?? 0.01;
  const lowIdx = Math.round((o.low ?? -20) / h);
  const size = Math.round((o.high ?? 30) / h) - lowIdx + 1;
  const kernels: Kernel[] = [];
  const byWeight = new Map<number, Kernel>();
  for (const w of plan.steps) {
    const k = byWeight.get(w) ?? incrementKernel(plan.requestsPerCheck, w, p0, p1, h);
    byWeight.set(w, k);
    for (let c = 0; c < plan.checksPerStep; c++) kernels.push(k);
  }
  return { h, lowIdx, size, kernels };
}

/** V_0(μ, λ) of (**) on the rounded-up chain. */
export function sequentialValue(setup: ReturnType<typeof sequentialBoundSetup>, mu: number, lambda: number): number {
  const { h, lowIdx, size, kernels } = setup;
  const K = kernels.length;
  const stop = (k: number, j: number) => k - mu + lambda * Math.exp(-(lowIdx + j) * h);
  let next = new Float64Array(size);
  for (let j = 0; j < size; j++) next[j] = Math.min(stop(K, j), 0);
  const expect = (v: Float64Array, kernel: Kernel, j: number, kNext: number) => {
    const beyond = Math.min(kNext - mu, 0);
    let s = 0;
    for (let i = 0; i < kernel.offsets.length; i++) {
      const t = j + kernel.offsets[i]!;
      s += kernel.probs[i]! * (t >= size ? beyond : v[t < 0 ? 0 : t]!);
    }
    return s;
  };
  for (let k = K - 1; k >= 1; k--) {
    const cur = new Float64Array(size);
    for (let j = 0; j < size; j++) cur[j] = Math.min(stop(k, j), expect(next, kernels[k]!, j, k + 1));
    next = cur;
  }
  return expect(next, kernels[0]!, -lowIdx, 1);
}

/** (**) at (μ, λ). */
export function sequentialBoundAt(v0: number, mu: number, lambda: number, alpha: number, q: number): number {
  const r = v0 - lambda * alpha;
  return mu + Math.min(r / q, r);
}

/**
 * The best (**) found over (μ, λ): a coarse grid and coordinate refinement on a grid of ℓ twice as
 * coarse (fast; still a bound), then refined on the fine grid. Every value tried is a valid bound.
 */
export function sequentialMeanChecksBound(plan: Plan, p0: number, p1: number, alpha: number, q: number, o: SequentialBoundOptions = {}): { bound: number; mu: number; lambda: number } {
  const K = plan.steps.length * plan.checksPerStep;
  const h = o.h ?? 0.01;
  const search = (setup: ReturnType<typeof sequentialBoundSetup>, start: { bound: number; mu: number; lambda: number }, stepMu: number, stepL: number, rounds: number) => {
    const f = (mu: number, lambda: number) => sequentialBoundAt(sequentialValue(setup, mu, lambda), mu, lambda, alpha, q);
    let best = { ...start, bound: f(start.mu, start.lambda) };
    for (let round = 0; round < rounds; round++) {
      let moved = true;
      while (moved) {
        moved = false;
        for (const [dm, dl] of [[stepMu, 0], [-stepMu, 0], [0, stepL], [0, -stepL]] as const) {
          const mu = best.mu + dm;
          const lambda = best.lambda * 10 ** dl;
          if (mu < 0) continue;
          const b = f(mu, lambda);
          if (b > best.bound + 1e-9) {
            best = { bound: b, mu, lambda };
            moved = true;
          }
        }
      }
      stepMu /= 2;
      stepL /= 2;
    }
    return best;
  };
  const coarse = sequentialBoundSetup(plan, p0, p1, { ...o, h: 2 * h });
  let start = { bound: -Infinity, mu: 0, lambda: 1 };
  for (let mu = K / 4; mu <= 2 * K; mu += K / 4) {
    for (let ll = 0; ll <= 4; ll += 1) {
      const b = sequentialBoundAt(sequentialValue(coarse, mu, 10 ** ll), mu, 10 ** ll, alpha, q);
      if (b > start.bound) start = { bound: b, mu, lambda: 10 ** ll };
    }
  }
  start = search(coarse, start, K / 8, 0.5, 6);
  return search(sequentialBoundSetup(plan, p0, p1, { ...o, h }), start, K / 256, 1 / 64, 2);
}
