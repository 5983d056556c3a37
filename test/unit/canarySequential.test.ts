// Anytime-valid canary tests (issue 21): the mixture statistics against published and textbook
// values, the always-valid property by seeded simulation (an identical candidate looked at many
// times is rolled back at most alpha of the time, within sampling error; naive peeking is not),
// the ledger's re-judging equal to a fresh run at that alpha, and MDE / ETA that keep their word.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_THRESHOLDS, initialState, runCheck, testLevels, type SequentialState } from '../../agent/src/canary/canaryAnalysis.js';
import { chiSquareQuantileUpper, normalQuantile, slowdownFor } from '../../agent/src/canary/canaryMde.js';
import { rejudge } from '../../agent/src/canary/canaryRejudge.js';
import { VersionSamples } from '../../agent/src/canary/canarySamples.js';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';
import { chiSquareMixtureLogE, confidenceSequenceZ, gridLogE, gridMixture, neededChiSquare, neededZ, normalMixtureLogE, updateLimit } from '../../agent/src/canary/sequential.js';
import { twoProportionGreater } from '../../agent/src/canary/statistics.js';
import { gaussian, seededRandom } from '../../scripts/lib/random.js';
import { simulate } from '../helpers/canaryRuns.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("normal mixture: Robbins' boundary |S_n| = √((n+m)(a² + ln((n+m)/m))) is exactly where Λ = e^(a²/2)", () => {
  // Robbins (1970), with the N(0, 1/m) mixture over the drift of a sum of n unit-variance terms.
  for (const [n, m, a] of [[100, 10, 2.448], [1000, 50, 3], [25, 25, 1.5]] as const) {
    const s = Math.sqrt((n + m) * (a * a + Math.log((n + m) / m)));
    close(normalMixtureLogE(s / Math.sqrt(n), n / m, false), (a * a) / 2, 1e-9, `n=${n} m=${m}`);
  }
  // Johari et al.'s mSPRT at α = 0.05 rejects exactly when Λ ≥ 20, i.e. always-valid p ≤ 0.05.
  const r = 10;
  const z = Math.sqrt(((1 + r) / r) * (2 * Math.log(20) + Math.log(1 + r)));
  close(Math.exp(normalMixtureLogE(z, r, false)), 20, 1e-9, 'Λ at the α=0.05 boundary');
  close(confidenceSequenceZ(0.05, r), z, 1e-12, 'the confidence sequence is the same boundary');
});

test('one-sided (half-normal) mixture equals the integral it stands for (quadrature)', () => {
  // Λ = ∫₀^∞ 2 N(θ; 0, τ²) exp((θ θ̂ − θ²/2) / V) dθ, θ̂ = z √V.
  for (const [z, v, tau] of [[2, 0.01, 0.1], [-1, 0.004, 0.1], [3.5, 0.0009, 0.05]] as const) {
    const thetaHat = z * Math.sqrt(v);
    let sum = 0;
    const h = tau / 2000;
    for (let t = h / 2; t < 12 * tau; t += h) sum += ((2 * Math.exp(-(t * t) / (2 * tau * tau))) / (tau * Math.sqrt(2 * Math.PI))) * Math.exp((t * thetaHat - (t * t) / 2) / v) * h;
    close(normalMixtureLogE(z, (tau * tau) / v, true), Math.log(sum), 1e-5, `z=${z}`);
  }
  // Evidence for a *better* candidate is no evidence of a regression.
  assert.ok(normalMixtureLogE(-3, 10, true) < 0);
});

test('chi-square mixture: df 1 is the two-sided normal mixture; boundaries invert', () => {
  close(chiSquareMixtureLogE(9, 1, 4), normalMixtureLogE(3, 4, false), 1e-12, 'df 1');
  const chi2 = neededChiSquare(Math.log(20), 9, 2.5);
  close(chiSquareMixtureLogE(chi2, 9, 2.5), Math.log(20), 1e-9, 'needed χ²');
  const z = neededZ(Math.log(100), 7);
  close(normalMixtureLogE(z, 7, true), Math.log(100), 1e-9, 'needed z');
  // Textbook quantiles (normal and chi-square tables).
  close(normalQuantile(0.975), 1.959964, 1e-5, 'z 0.975');
  close(normalQuantile(0.999), 3.090232, 1e-5, 'z 0.999');
  close(chiSquareQuantileUpper(0.05, 1), 3.841459, 1e-4, 'χ² df 1');
  close(chiSquareQuantileUpper(0.05, 9), 16.918978, 1e-3, 'χ² df 9');
});

test("limit test: Wald's Bernoulli likelihood ratio, mixed over alternatives above the limit", () => {
  // 9 failures in 100 requests against a 5 % limit, alternative 10 %: (0.10/0.05)⁹ (0.90/0.95)⁹¹ = 2⁹ (18/19)⁹¹ = 3.73672…
  const lr = (p1: number) => (p1 / 0.05) ** 9 * ((1 - p1) / 0.95) ** 91;
  close(lr(0.1), 3.736717, 1e-5, "Wald's ratio");
  const m = updateLimit(gridMixture([1, 1, 1]), 0.05, 100, 9); // alternatives 7.5 %, 10 %, 20 %
  close(Math.exp(gridLogE(m)), (lr(0.075) + lr(0.1) + lr(0.2)) / 3, 1e-9, 'equal-weight mixture');
  // A limit of 100 % cannot be exceeded: no evidence ever.
  close(gridLogE(updateLimit(gridMixture([1, 1, 1]), 1, 100, 100)), 0, 1e-12, 'limit 100 %');
});

test('always valid: mixture e-processes looked at 200 times cross 1/α at most α of the time (seeded)', () => {
  const rnd = seededRandom(21);
  const alpha = 0.1;
  const runs = 2000;
  let normalCrossed = 0;
  let errorsCrossed = 0;
  let limitCrossed = 0;
  let naive = 0;
  for (let i = 0; i < runs; i++) {
    let s = 0;
    const e = { nb: 0, xb: 0, nc: 0, xc: 0 };
    let limit = gridMixture([1, 1, 1]);
    let crossedN = false;
    let crossedE = false;
    let crossedL = false;
    let crossedNaive = false;
    for (let look = 1; look <= 200; look++) {
      s += gaussian(rnd, 1);
      if (normalMixtureLogE(s / Math.sqrt(look), look / 25, true) >= Math.log(1 / alpha)) crossedN = true;
      if (s / Math.sqrt(look) > normalQuantile(1 - alpha)) crossedNaive = true;
      // The canary's error-rate test as it runs: rare errors (1 %), 50 requests per look, the
      // candidate's share stepping 10 → 25 → 50 → 100 %, the z over all the canary has served.
      const share = look <= 20 ? 0.1 : look <= 40 ? 0.25 : look <= 60 ? 0.5 : 1;
      let limitN = 0;
      let limitX = 0;
      for (let k = 0; k < 50; k++) {
        const cand = rnd() < share;
        const err = rnd() < 0.01;
        if (cand) (e.nc++, (e.xc += err ? 1 : 0));
        else (e.nb++, (e.xb += err ? 1 : 0));
        // The limit test at exactly its limit (5 %): the hardest null.
        limitN++;
        if (rnd() < 0.05) limitX++;
      }
      if (e.nb >= 50 && e.nc >= 50) {
        const z = twoProportionGreater(e.xb, e.nb, e.xc, e.nc).statistic;
        if (normalMixtureLogE(z, 0.01 / (1 / e.nb + 1 / e.nc), true) >= Math.log(1 / alpha)) crossedE = true;
      }
      limit = updateLimit(limit, 0.05, limitN, limitX);
      if (gridLogE(limit) >= Math.log(1 / alpha)) crossedL = true;
    }
    limitCrossed += crossedL ? 1 : 0;
    normalCrossed += crossedN ? 1 : 0;
    errorsCrossed += crossedE ? 1 : 0;
    naive += crossedNaive ? 1 : 0;
  }
  const bound = alpha + 2.33 * Math.sqrt((alpha * (1 - alpha)) / runs); // one-sided 99 %
  assert.ok(normalCrossed / runs <= bound, `normal mixture: ${normalCrossed / runs}`);
  assert.ok(errorsCrossed / runs <= bound, `error-rate mSPRT: ${errorsCrossed / runs}`);
  assert.ok(limitCrossed / runs <= bound, `limit mixture: ${limitCrossed / runs}`);
  // The simulation can see a broken guarantee: a fixed-level z-test at every look crosses far more often.
  assert.ok(naive / runs > 3 * alpha, `naive peeking: ${naive / runs}`);
});

test('A/A through the controller: an open-ended canary looked at 25 times rolls back an identical candidate at most α (seeded)', () => {
  // Margins 0: any shift counts, and the canary never has "enough" evidence, so every canary takes all 40 looks.
  const thresholds = { alpha: 0.1, min_samples: 20, latency_effect_margin: 0, confidence_effect_margin: 0, min_cramers_v: 0 };
  const runs = 150;
  let rolled = 0;
  let looks = 0;
  for (let i = 0; i < runs; i++) {
    const c = simulate({ steps: [40], open_ended: true, thresholds }, 5000 + i, { perCheck: 30, baseError: 0.03 }, 25);
    looks += c.checks.length;
    if (c.state === 'rolled_back') rolled++;
    else assert.equal(c.state, 'aborted', c.reason ?? '');
  }
  assert.ok(looks > runs * 20, `looks per canary: ${looks / runs}`);
  const bound = 0.1 + 2.33 * Math.sqrt((0.1 * 0.9) / runs);
  assert.ok(rolled / runs <= bound, `false rollbacks ${rolled}/${runs}`);
});

test('re-judging the ledger at another alpha equals a fresh canary at that alpha (both directions, both methods)', () => {
  for (const method of ['anytime', 'bonferroni'] as const) {
    const spec = (alpha: number) => ({ steps: [25, 50, 100], checks_per_step: 4, method, thresholds: { alpha, min_samples: 30 } });
    const traffic = { perCheck: 400, candidateError: 0.035, baseError: 0.01 };
    let compared = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const lenient = simulate(spec(0.2), seed, traffic);
      const strict = simulate(spec(0.001), seed, traffic);
      // Lenient recorded, judged strictly: agrees with the strict run wherever the record reaches.
      const down = rejudge(lenient, 0.001);
      for (const [i, k] of down.checks.entries()) {
        assert.deepEqual(k.metrics.map((m) => [m.name, m.verdict, m.reason]), strict.checks[i]!.metrics.map((m) => [m.name, m.verdict, m.reason]), `${method} seed ${seed} check ${i + 1}`);
        assert.equal(k.decision, strict.checks[i]!.decision);
      }
      if (down.decision !== 'undecided') {
        assert.equal(down.at_check, strict.checks.length);
        assert.equal(down.reason, strict.reason);
      } else assert.ok(strict.checks.length > lenient.checks.length || strict.state === lenient.state);
      // Strict recorded, judged leniently: the lenient run's decision, at the same check, for the same reason.
      const up = rejudge(strict, 0.2);
      assert.equal(up.at_check, lenient.checks.length, `${method} seed ${seed}: ${up.reason}`);
      assert.equal(up.decision, lenient.decision === 'rollback' ? 'rollback' : 'promote');
      assert.equal(up.reason, lenient.reason);
      // Judged at its own alpha, a record decides what it decided.
      assert.equal(rejudge(lenient, 0.2).reason, lenient.reason);
      if (lenient.checks.length !== strict.checks.length) compared++;
    }
    assert.ok(compared >= 2, `${method}: the two alphas decided differently in ${compared} of 8 canaries`);
  }
});

test('every metric of every check carries its ledger row', () => {
  const c = simulate({ steps: [50, 100], checks_per_step: 2, thresholds: { min_samples: 30 } }, 3, { perCheck: 300 });
  assert.equal(c.method, 'anytime');
  assert.equal(c.alpha_per_test, null);
  close(Object.values(c.alpha_levels!).reduce((s, x) => s + x, 0), 0.05, 1e-12, 'the levels share alpha');
  const latency = c.checks[0]!.metrics.find((m) => m.name === 'latency')!.evidence!;
  assert.equal(latency.gate, 'ok');
  assert.ok(latency.n.baseline > 0 && latency.n.candidate > 0);
  const shift = latency.tests[0]!;
  assert.equal(shift.name, 'shift');
  assert.ok(shift.e_value! > 0 && shift.p_value <= 1 && shift.alpha_spent === null);
  assert.ok(latency.effect!.low! <= latency.effect!.estimate && latency.effect!.estimate <= latency.effect!.high!);
  const errors = c.checks[0]!.metrics.find((m) => m.name === 'error_rate')!.evidence!;
  assert.deepEqual(errors.tests.map((t) => t.name), ['limit', 'relative']);
  // Bonferroni records the alpha its looks have used.
  const b = simulate({ steps: [50, 100], checks_per_step: 2, method: 'bonferroni', thresholds: { min_samples: 30 } }, 3, { perCheck: 300 });
  const compared = b.checks.filter((k) => k.weight < 100); // at 100 % only the absolute limits judge
  assert.ok(compared.length >= 2);
  const spent = compared.map((k) => k.metrics.find((m) => m.name === 'latency')!.evidence!.tests[0]!.alpha_spent!);
  assert.deepEqual(spent.map((x) => Math.round(x / b.alpha_per_test!)), spent.map((_, i) => i + 1));
});

test('MDE and ETA: the ETA is when the MDE reaches the smallest regression that counts; no traffic says so', () => {
  const rnd = seededRandom(9);
  const t = { ...DEFAULT_THRESHOLDS, min_samples: 30 };
  const levels = testLevels('anytime', t, 0);
  const b = new VersionSamples(rnd);
  const c = new VersionSamples(rnd);
  let state: SequentialState = initialState();
  const perCheck = 100; // per version
  const add = () => {
    for (let i = 0; i < perCheck; i++) {
      b.add(true, 5 + 10 * rnd(), [Math.floor(rnd() * 10)], [rnd()]);
      c.add(true, 5 + 10 * rnd(), [Math.floor(rnd() * 10)], [rnd()]);
    }
  };
  const check = (interval: number) => {
    const out = runCheck({ baseline: b, candidate: c, baselineTotal: { requests: b.requests, errors: 0 }, candidateTotal: { requests: c.requests, errors: 0 }, baselineInterval: { requests: interval, errors: 0 }, candidateInterval: { requests: interval, errors: 0 }, candidateBreakerOpened: false, baselineServes: true, thresholds: t, alpha: t.alpha, method: 'anytime', levels, state, intervalS: 10 });
    state = out.state;
    return out.metrics.find((m) => m.name === 'latency')!.evidence!;
  };
  add();
  const first = check(perCheck);
  assert.equal(first.mde!.sufficient, false);
  assert.match(first.mde!.text, /^can detect \+\d+% latency now \(P\(slower\) ≥ 0\.\d\d\)$/);
  const eta = first.eta!;
  assert.match(eta.text, /^about \d+ more checks? at 20 req\/s to see P\(slower\) > 0\.56$/);
  assert.equal(eta.requests_per_s, 20);
  for (let k = 1; k < eta.checks!; k++) {
    add();
    assert.equal(check(perCheck).mde!.sufficient, false, `sufficient before the ETA (check ${k})`);
  }
  add();
  const due = check(perCheck);
  assert.equal(due.mde!.sufficient, true, due.mde!.text);
  assert.match(due.eta!.text, /^already sees P\(slower\) > 0\.56/);
  // A slowdown of +x% of these latencies is what P(slower) = 0.5 + margin means.
  assert.ok(slowdownFor(b.latenciesMs, 0.56) > 1.02);
  const idle = check(0);
  assert.match(idle.eta!.text, /^no traffic since the last check: send requests to the model/);
  assert.equal(idle.eta!.requests_per_s, 0);
});

test('open-ended canaries: anytime only, and they promote once every metric could see the smallest regression that counts', () => {
  assert.equal(canarySpecSchema.safeParse({ model: 'm', candidate: '2', open_ended: true, method: 'bonferroni' }).success, false);
  // A model that never fails: the error rate is sufficient once +0.2 % errors would show.
  const c = simulate({ steps: [50, 100], open_ended: true, checks_per_step: 2, thresholds: { min_samples: 30 } }, 11, { perCheck: 400, baseError: 0 }, 400);
  assert.equal(c.state, 'promoted', c.reason ?? '');
  const first = c.checks.filter((k) => k.weight === 50);
  assert.ok(first.length >= 2, `${first.length} checks at 50 %`);
  // Held while some critical metric could not yet see what counts; moved on once all could.
  assert.ok(first.slice(0, -1).every((k) => k.decision === 'continue' && k.metrics.some((m) => m.evidence?.mde?.sufficient === false)));
  assert.equal(first.at(-1)!.decision, 'next_step');
  assert.ok(first.at(-1)!.metrics.every((m) => m.evidence?.gate !== 'ok' || m.evidence.mde?.sufficient));
  // At 100 % nothing is compared any more: the planned number of checks of the absolute limits, then promote.
  assert.deepEqual(c.checks.filter((k) => k.weight === 100).map((k) => k.decision), ['continue', 'promote']);
});
