import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Canary, CanaryCheck } from '../../common/api.js';
import { DEFAULT_THRESHOLDS, analyzeCheck, decide } from '../../agent/src/canary/canaryAnalysis.js';
import { CanaryController } from '../../agent/src/canary/canaryController.js';
import { VersionSamples } from '../../agent/src/canary/canarySamples.js';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';
import { CanaryStore } from '../../agent/src/canary/canaryStore.js';
import { ConflictError } from '../../agent/src/errors.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import type { ModelManager } from '../../agent/src/models/modelManager.js';
import { breakerSettingsSchema } from '../../agent/src/resilience/breakerSettings.js';
import { CircuitBreaker } from '../../agent/src/resilience/circuitBreaker.js';
import { seededRandom } from '../../scripts/lib/random.js';
import { FakeClock } from '../helpers/fakeClock.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Draws n samples: latency ~ base·(1+U), class by `mix`, confidence in [c0, 1]. */
function fill(s: VersionSamples, n: number, rnd: () => number, o: { errorRate?: number; latency?: number; mix?: number[]; conf?: number } = {}): void {
  const mix = o.mix ?? [0.25, 0.25, 0.25, 0.25];
  for (let i = 0; i < n; i++) {
    if (rnd() < (o.errorRate ?? 0.01)) {
      s.add(false, 0);
      continue;
    }
    let u = rnd();
    let cls = 0;
    while (cls < mix.length - 1 && u > mix[cls]!) u -= mix[cls++]!;
    s.add(true, (o.latency ?? 10) * (1 + rnd()), [cls], [(o.conf ?? 0.7) + rnd() * (1 - (o.conf ?? 0.7))]);
  }
}

const check = (base: VersionSamples, cand: VersionSamples, extra: Partial<Parameters<typeof analyzeCheck>[0]> = {}) =>
  Object.fromEntries(analyzeCheck({ baseline: base, candidate: cand, candidateBreakerOpened: false, baselineServes: true, thresholds: DEFAULT_THRESHOLDS, alpha: 0.001, ...extra }).map((m) => [m.name, m]));

test('analysis: identical versions pass every metric', () => {
  const rnd = seededRandom(1);
  const b = new VersionSamples(rnd);
  const c = new VersionSamples(rnd);
  fill(b, 2000, rnd);
  fill(c, 2000, rnd);
  const r = check(b, c);
  for (const name of ['error_rate', 'latency', 'predictions', 'confidence', 'breaker']) assert.equal(r[name]!.verdict, 'pass', `${name}: ${r[name]!.reason}`);
});

test('analysis: each regression fails its own metric, with a reason a person can read', () => {
  const rnd = seededRandom(2);
  const b = new VersionSamples(rnd);
  fill(b, 2000, rnd);
  const worse = (o: Parameters<typeof fill>[3]) => {
    const c = new VersionSamples(rnd);
    fill(c, 2000, rnd, o);
    return check(b, c);
  };
  const errors = worse({ errorRate: 0.08 });
  assert.equal(errors.error_rate!.verdict, 'fail');
  assert.match(errors.error_rate!.reason, /candidate error rate 8(\.\d)?% is above the 5\.0% limit/);
  const slow = worse({ latency: 13 });
  assert.equal(slow.latency!.verdict, 'fail');
  assert.match(slow.latency!.reason, /candidate is slower: P\(slower\)=0\.\d\d/);
  const mix = worse({ mix: [0.5, 0.3, 0.1, 0.1] });
  assert.equal(mix.predictions!.verdict, 'fail');
  assert.match(mix.predictions!.reason, /different class mix: Cramér's V=0\.\d\d/);
  const unsure = worse({ conf: 0.4 });
  assert.equal(unsure.confidence!.verdict, 'fail');
  assert.match(unsure.confidence!.reason, /candidate is less confident/);
  // A tiny but real shift on a big sample is not a regression (effect-size margin).
  const tiny = worse({ latency: 10.2 });
  assert.equal(tiny.latency!.verdict, 'pass', tiny.latency!.reason);
});

test('analysis: too little data is inconclusive; at 100% only absolute limits judge; an open breaker fails', () => {
  const rnd = seededRandom(3);
  const b = new VersionSamples(rnd);
  const c = new VersionSamples(rnd);
  fill(b, 20, rnd);
  fill(c, 20, rnd);
  assert.equal(check(b, c).latency!.verdict, 'inconclusive');
  assert.match(check(b, c).error_rate!.reason, /too little traffic: 20 candidate \/ 20 baseline requests \(need 50 each\)/);
  const solo = new VersionSamples(rnd);
  fill(solo, 500, rnd, { latency: 2000 });
  const r = check(new VersionSamples(rnd), solo, { baselineServes: false });
  assert.equal(r.latency!.verdict, 'fail');
  assert.match(r.latency!.reason, /above the 1000 ms limit \(baseline serves no traffic at 100%\)/);
  assert.equal(r.predictions!.verdict, 'pass');
  assert.equal(check(b, c, { candidateBreakerOpened: true }).breaker!.verdict, 'fail');
});

test('decisions: fail → rollback; pass → continue, next step, promote; inconclusive → wait, then roll back', () => {
  const m = (verdict: 'pass' | 'fail' | 'inconclusive', name: 'latency' | 'error_rate' = 'latency') => ({ name, baseline: null, candidate: null, statistic: null, p_value: null, verdict, reason: `${verdict} reason` });
  const base = { critical: DEFAULT_THRESHOLDS.critical, checksPerStep: 2, isLastStep: false, inconclusiveChecks: 0, maxInconclusive: 3, checkInStep: 0 };
  assert.deepEqual(decide({ ...base, metrics: [m('pass'), m('fail', 'error_rate')] }), { decision: 'rollback', reason: 'error_rate: fail reason' });
  assert.equal(decide({ ...base, metrics: [m('pass')] }).decision, 'continue');
  assert.equal(decide({ ...base, checkInStep: 1, metrics: [m('pass')] }).decision, 'next_step');
  assert.equal(decide({ ...base, checkInStep: 1, isLastStep: true, metrics: [m('pass')] }).decision, 'promote');
  assert.equal(decide({ ...base, checkInStep: 1, inconclusiveChecks: 3, metrics: [m('inconclusive')] }).decision, 'continue');
  const gaveUp = decide({ ...base, inconclusiveChecks: 4, metrics: [m('inconclusive')] });
  assert.equal(gaveUp.decision, 'rollback');
  assert.match(gaveUp.reason, /not enough traffic to judge the candidate after 4 inconclusive checks/);
  // Non-critical failures do not roll back.
  assert.equal(decide({ ...base, critical: ['error_rate'], metrics: [m('fail'), m('pass', 'error_rate')] }).decision, 'continue');
});

/** The three ModelManager methods the controller uses, over real breakers. */
function fakeModels() {
  const breakers = new Map(['1', '2'].map((v) => [v, new CircuitBreaker(`m/${v}`, breakerSettingsSchema.parse({}), new FakeClock())]));
  let defaultVersion = '1';
  const models = {
    status: () => [{ name: 'm', default_version: defaultVersion, versions: [] }],
    resolve: (_m: string, v: string) => {
      const breaker = breakers.get(v);
      if (!breaker) throw new Error(`no version ${v}`);
      return { breaker };
    },
    setDefaultVersion: (_m: string, v: string) => void (defaultVersion = v),
  } as unknown as ModelManager;
  return { models, breakers, get defaultVersion() { return defaultVersion; } };
}

function controllerSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-canary-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const rnd = seededRandom(7);
  const fm = fakeModels();
  const store = new CanaryStore(dir);
  const controller = new CanaryController(fm.models, store, clock, silentLogger, rnd);
  const events: [Canary, CanaryCheck | undefined][] = [];
  controller.on('canary', (c, k) => events.push([structuredClone(c), k]));
  /** Serves n unversioned requests through the router; the candidate optionally fails some. */
  const serve = (n: number, candidateErrorRate = 0) => {
    for (let i = 0; i < n; i++) {
      const version = controller.route('m') ?? fm.defaultVersion;
      const ok = !(version === '2' && rnd() < candidateErrorRate);
      controller.record({ model: 'm', version, ok, latencyMs: 5 + rnd() * 5, classes: [Math.floor(rnd() * 4)], confidences: [0.8 + rnd() * 0.2] });
    }
  };
  return { dir, clock, fm, store, controller, events, serve };
}

const spec = (extra: object = {}) => canarySpecSchema.parse({ model: 'm', candidate: '2', steps: [20, 50, 100], interval_s: 10, checks_per_step: 2, thresholds: { min_samples: 30 }, ...extra });

test('controller: steps through the weights and promotes a healthy candidate, persisting the promotion', () => {
  const { clock, controller, serve, fm, events, dir } = controllerSetup();
  const c = controller.start(spec());
  assert.equal(c.weight, 20);
  assert.throws(() => controller.start(spec()), ConflictError);
  const weights: number[] = [];
  for (let i = 0; i < 6; i++) {
    serve(400);
    clock.advance(10_000);
    weights.push(controller.get(c.id).weight);
  }
  const done = controller.get(c.id);
  assert.equal(done.state, 'promoted', done.reason ?? '');
  assert.deepEqual(weights, [20, 50, 50, 100, 100, 100]);
  assert.deepEqual(done.checks.map((k) => k.decision), ['continue', 'next_step', 'continue', 'next_step', 'continue', 'promote']);
  assert.equal(fm.defaultVersion, '2');
  assert.equal(controller.route('m'), undefined, 'no split after the canary');
  assert.equal(new CanaryStore(dir).defaults.m, '2');
  assert.equal(events.at(-1)![0].state, 'promoted');
  // The router split traffic by the weight: ~20% to the candidate in the first step.
  const first = done.checks[0]!.samples;
  assert.ok(first.candidate / (first.candidate + first.baseline) > 0.12 && first.candidate / (first.candidate + first.baseline) < 0.28, JSON.stringify(first));
});

test('controller: a failing candidate is rolled back at the first check; traffic back on the baseline', () => {
  const { clock, controller, serve, fm } = controllerSetup();
  const c = controller.start(spec());
  serve(1000, 0.3);
  clock.advance(10_000);
  const done = controller.get(c.id);
  assert.equal(done.state, 'rolled_back');
  assert.equal(done.weight, 0);
  assert.match(done.reason!, /^error_rate: candidate error rate \d+(\.\d)?% is above the 5\.0% limit/);
  assert.equal(controller.route('m'), undefined);
  assert.equal(fm.defaultVersion, '1');
});

test("controller: the candidate's breaker opening rolls back at the next check", () => {
  const { clock, controller, serve, fm } = controllerSetup();
  const c = controller.start(spec());
  fm.breakers.get('2')!.forceOpen();
  serve(400);
  clock.advance(10_000);
  assert.match(controller.get(c.id).reason!, /breaker: the candidate's circuit breaker opened/);
});

test('controller: no traffic → inconclusive checks, then rollback saying so', () => {
  const { clock, controller } = controllerSetup();
  const c = controller.start(spec({ thresholds: { min_samples: 30, max_inconclusive_checks: 2 } }));
  for (let i = 0; i < 3; i++) clock.advance(10_000);
  const done = controller.get(c.id);
  assert.equal(done.state, 'rolled_back');
  assert.match(done.reason!, /not enough traffic to judge the candidate after 3 inconclusive checks/);
});

test('controller: abort sends all traffic to the baseline at once; restart recovery rolls back a running canary', () => {
  const { controller, dir, clock, fm } = controllerSetup();
  const c = controller.start(spec());
  assert.ok(controller.route('m'));
  const aborted = controller.abort(c.id);
  assert.equal(aborted.state, 'aborted');
  assert.equal(controller.route('m'), undefined);
  assert.throws(() => controller.abort(c.id), /is not running \(it is aborted\)/);

  const second = controller.start(spec());
  // A new agent process over the same state folder:
  const after = new CanaryController(fm.models, new CanaryStore(dir), clock, silentLogger);
  after.recover();
  const recovered = after.get(second.id);
  assert.equal(recovered.state, 'rolled_back');
  assert.match(recovered.reason!, /the agent restarted during the canary/);
  assert.equal(after.route('m'), undefined);
  controller.close();
});

test('spec validation: steps increasing, in (0,100]; in-process or Prometheus source', () => {
  assert.throws(() => canarySpecSchema.parse({ model: 'm', candidate: '2', steps: [50, 20] }), /expected increasing weights/);
  assert.throws(() => canarySpecSchema.parse({ model: 'm', candidate: '2', steps: [0] }), /expected weights in \(0, 100\]/);
  assert.throws(() => canarySpecSchema.parse({ model: 'm', candidate: '2', source: { kind: 'prometheus', url: 'ftp://x' } }), /expected an http\(s\):\/\/ URL/);
  assert.throws(() => canarySpecSchema.parse({ model: 'm', candidate: '2', source: { kind: 'graphite' } }));
  assert.equal(canarySpecSchema.parse({ model: 'm', candidate: '2', source: { kind: 'prometheus', url: 'http://127.0.0.1:9090' } }).source.kind, 'prometheus');
  const d = canarySpecSchema.parse({ model: 'm', candidate: '2' });
  assert.deepEqual([d.steps, d.interval_s, d.checks_per_step], [[10, 25, 50, 100], 30, 4]);
});
