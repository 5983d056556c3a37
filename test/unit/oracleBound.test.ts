// The oracle bound of bench:canary (bench/lib/oracleBound.ts): the Neyman–Pearson power against
// exact binomial tails computed independently, with integer binomial coefficients and table values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomialCells, binomialDist, binomialPmf, meanChecksBound, neymanPearsonPower, oraclePowers, sequentialMeanChecksBound, type Plan } from '../../bench/lib/oracleBound.js';

/** P(X ≥ x), X ~ Bin(n, p), from exact BigInt binomial coefficients (independent of logGamma). */
function upperTail(x: number, n: number, p: number): number {
  let coef = 1n;
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    if (k > 0) coef = (coef * BigInt(n - k + 1)) / BigInt(k);
    if (k >= x) sum += Number(coef) * p ** k * (1 - p) ** (n - k);
  }
  return sum;
}

test('binomial tails agree with the tables (n = 20)', () => {
  // Textbook tables: P(X ≥ 15 | 20, 0.5) = 21700/2^20 = 0.0207, P(X ≥ 15 | 20, 0.7) = 0.4164.
  assert.ok(Math.abs(upperTail(15, 20, 0.5) - 21700 / 2 ** 20) < 1e-12);
  assert.ok(Math.abs(upperTail(15, 20, 0.7) - 0.4164) < 5e-5);
  let s = 0;
  for (let x = 15; x <= 20; x++) s += binomialPmf(x, 20, 0.7);
  assert.ok(Math.abs(s - upperTail(15, 20, 0.7)) < 1e-12);
});

test('the Neyman–Pearson power is the randomized exact binomial test’s (n = 20, 0.5 vs 0.7, alpha 0.05)', () => {
  // Reject X ≥ 15 (size 0.0207) and X = 14 with the probability that fills the level to 0.05.
  const size15 = upperTail(15, 20, 0.5);
  const gamma = (0.05 - size15) / (upperTail(14, 20, 0.5) - size15);
  const expected = upperTail(15, 20, 0.7) + gamma * (upperTail(14, 20, 0.7) - upperTail(15, 20, 0.7));
  assert.ok(Math.abs(expected - 0.5683) < 1e-4, String(expected));
  assert.ok(Math.abs(neymanPearsonPower(binomialCells(20, 0.5, 0.7), 0.05) - expected) < 1e-10);
  // At a level the tail meets exactly, no randomization: the power is the table's tail.
  assert.ok(Math.abs(neymanPearsonPower(binomialCells(20, 0.5, 0.7), size15) - upperTail(15, 20, 0.7)) < 1e-10);
});

test('the oracle at one check of fixed routing is the binomial test on the candidate’s requests', () => {
  // Weight 100 %: all 300 requests reach the candidate; 1 % against 2 % errors.
  const [beta] = oraclePowers({ steps: [100], checksPerStep: 1, requestsPerCheck: 300 }, 0.01, 0.02, 0.05);
  assert.ok(Math.abs(beta! - neymanPearsonPower(binomialCells(300, 0.01, 0.02), 0.05)) < 1e-12);
  // A random routing of the same mean (the count is known to the test, so it may spend its level
  // where the count is large): close to the fixed one, not equal.
  const [routed] = oraclePowers({ steps: [50], checksPerStep: 1, requestsPerCheck: 600 }, 0.01, 0.02, 0.05);
  assert.ok(Math.abs(routed! - beta!) < 0.02 && routed !== beta, `${routed} vs ${beta}`);
});

test('the mean-checks bound: K − Σ min(β_k, q)/q, growing with q, none beyond the last power', () => {
  const powers = [0.5, 0.9, 1];
  // q = 0.9: 3 − (0.5 + 0.9)/0.9; a procedure rejecting with power β_k at every k would reach it.
  assert.ok(Math.abs(meanChecksBound(powers, 0.9) - (3 - 1.4 / 0.9)) < 1e-12);
  assert.equal(meanChecksBound(powers, 0.5), 1);
  assert.ok(meanChecksBound(powers, 0.95) > meanChecksBound(powers, 0.9));
  assert.ok(Number.isNaN(meanChecksBound([0.5, 0.8], 0.9)));
});

/** A real procedure, exactly: Wald's SPRT for the known rates, rolling back once ℓ ≥ ln(1/alpha) (Ville: level alpha). */
function sprt(plan: Plan, p0: number, p1: number, alpha: number) {
  const a = Math.log(p1 / p0);
  const b = Math.log((1 - p1) / (1 - p0));
  const run = (p: number) => {
    // State n·10⁶ + x: candidate requests and errors so far, on paths not yet rolled back.
    let alive = new Map<number, number>([[0, 1]]);
    let caught = 0;
    let checks = 0;
    let k = 0;
    for (const w of plan.steps) {
      const routed = binomialDist(plan.requestsPerCheck, w / 100);
      for (let c = 0; c < plan.checksPerStep; c++) {
        k++;
        const next = new Map<number, number>();
        for (const [key, q] of alive) {
          const n = Math.floor(key / 1e6);
          const x = key % 1e6;
          routed.forEach((qn, dn) => {
            if (qn < 1e-13) return;
            for (let dx = 0; dx <= dn; dx++) {
              const qx = qn * binomialPmf(dx, dn, p);
              if (qx < 1e-15) {
                if (dx > dn * p) break;
                continue;
              }
              const id = (n + dn) * 1e6 + x + dx;
              next.set(id, (next.get(id) ?? 0) + q * qx);
            }
          });
        }
        alive = new Map();
        for (const [key, q] of next) {
          const n = Math.floor(key / 1e6);
          const x = key % 1e6;
          if (x * a + (n - x) * b >= Math.log(1 / alpha)) {
            caught += q;
            checks += k * q;
          } else alive.set(key, q);
        }
      }
    }
    return { caught, mean: checks / caught };
  };
  return { h0: run(p0), h1: run(p1) };
}

test('the sequential bound: exactly 1 check with one look, and between the per-look bound and a real procedure', () => {
  // One look: every rollback is at check 1, so no valid bound may exceed 1.
  const one: Plan = { steps: [100], checksPerStep: 1, requestsPerCheck: 400 };
  const [beta] = oraclePowers(one, 0.05, 0.1, 0.05);
  const single = sequentialMeanChecksBound(one, 0.05, 0.1, 0.05, beta! * 0.999).bound;
  assert.ok(single <= 1 + 1e-9 && single > 0.9, String(single));
  // Four looks: the SPRT is a procedure with the guarantee; the bound at its caught share lies
  // below its mean, and above the per-look bound (one procedure cannot have every look's best test).
  const plan: Plan = { steps: [50, 100], checksPerStep: 2, requestsPerCheck: 150 };
  const wald = sprt(plan, 0.05, 0.1, 0.05);
  assert.ok(wald.h0.caught <= 0.05, `SPRT false rollbacks ${wald.h0.caught}`);
  const q = wald.h1.caught;
  const seq = sequentialMeanChecksBound(plan, 0.05, 0.1, 0.05, q).bound;
  const look = meanChecksBound(oraclePowers(plan, 0.05, 0.1, 0.05), q);
  assert.ok(look < seq && seq <= wald.h1.mean + 1e-9, `per look ${look}, sequential ${seq}, SPRT ${wald.h1.mean} at ${q}`);
});
