import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chiSquareHomogeneity, gammaQ, mannWhitneyGreater, normalSf, proportionGreaterThan, quantile, twoProportionGreater } from '../../agent/src/canary/statistics.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('normal tail matches tables', () => {
  close(normalSf(0), 0.5, 1e-7, 'z=0');
  close(normalSf(1.959964), 0.025, 1e-6, 'z=1.96');
  close(normalSf(3.090232), 0.001, 1e-6, 'z=3.09');
  close(normalSf(-1.644854), 0.95, 1e-6, 'z=-1.645');
});

test('chi-square upper tail matches critical values', () => {
  close(gammaQ(0.5, 3.841459 / 2), 0.05, 1e-5, 'df 1');
  close(gammaQ(2.5, 11.0705 / 2), 0.05, 1e-5, 'df 5');
  close(gammaQ(4.5, 21.666 / 2), 0.01, 1e-4, 'df 9');
});

test('Mann-Whitney U: textbook example (U = 17, exact one-sided p = 7/126)', () => {
  const slower = [19, 22, 16, 29, 24];
  const faster = [20, 11, 17, 12];
  const r = mannWhitneyGreater(faster, slower);
  assert.equal(r.u, 17);
  close(r.effect, 0.85, 1e-12, 'effect');
  close(r.p, 7 / 126, 0.002, 'p (normal approximation, continuity-corrected)');
  // Reversed direction: no evidence the faster one is slower.
  assert.ok(mannWhitneyGreater(slower, faster).p > 0.9);
});

test('Mann-Whitney U handles ties (all equal → no evidence)', () => {
  const r = mannWhitneyGreater([5, 5, 5, 5], [5, 5, 5, 5]);
  assert.equal(r.effect, 0.5);
  assert.equal(r.p, 1);
  const t = mannWhitneyGreater([1, 2, 2, 3], [2, 3, 3, 4]);
  assert.equal(t.u, 13); // 2 + 3.5 + 3.5 + 4 pairs where b > a, ties counted ½
});

test('chi-square homogeneity: textbook 2×3 table', () => {
  const r = chiSquareHomogeneity([20, 30, 50], [30, 30, 40]);
  close(r.statistic, 3.1111, 1e-4, 'chi2');
  assert.equal(r.df, 2);
  close(r.p, Math.exp(-3.1111 / 2), 1e-4, 'p (df 2: e^(-x/2))');
  close(r.cramersV, Math.sqrt(3.1111 / 200), 1e-4, "Cramér's V");
  assert.equal(chiSquareHomogeneity([10, 0, 5], [20, 0, 10]).statistic, 0);
});

test('proportion tests', () => {
  const r = twoProportionGreater(10, 1000, 25, 1000);
  close(r.statistic, 2.558, 1e-3, 'z');
  close(r.p, 0.00526, 1e-4, 'p');
  assert.ok(twoProportionGreater(25, 1000, 10, 1000).p > 0.99);
  close(proportionGreaterThan(80, 1000, 0.05).statistic, 4.3528, 1e-3, 'one-sample z');
});

test('quantile by nearest rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(v, 0.99), 99);
  assert.equal(quantile(v, 0.5), 50);
  assert.equal(quantile([3, 1, 2], 1), 3);
});
