import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import type { Canary, CanaryCheck } from '../../common/api.js';
import { DEFAULT_THRESHOLDS, analyzeCheck, decide } from '../../agent/src/canary/canaryAnalysis.js';
import { CanaryController } from '../../agent/src/canary/canaryController.js';
import { VersionSamples } from '../../agent/src/canary/canarySamples.js';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';
import { statusCanaries } from '../../agent/src/canary/canarySummaries.js';
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

function controllerSetup(stateDir?: string) {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'inferscope-canary-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const rnd = seededRandom(7);
  const fm = fakeModels();
  const warnings: string[] = [];
  const store = new CanaryStore(dir, (m) => warnings.push(m), { clock });
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
  return { dir, clock, fm, store, controller, events, serve, warnings };
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
  // The README's rule: max_inconclusive_checks (2) are tolerated, the 3rd rolls back and says so.
  assert.match(done.reason!, /not enough traffic to judge the candidate after 3 inconclusive checks, more than max_inconclusive_checks \(2\)/);
  assert.equal(done.checks.length, 3);
});

test('controller: abort sends all traffic to the baseline at once; restart recovery rolls back a running canary', async () => {
  const { controller, dir, clock, fm, store } = controllerSetup();
  const c = controller.start(spec());
  assert.ok(controller.route('m'));
  const aborted = controller.abort(c.id);
  assert.equal(aborted.state, 'aborted');
  assert.equal(controller.route('m'), undefined);
  assert.throws(() => controller.abort(c.id), /is not running \(it is aborted\)/);

  const second = controller.start(spec());
  await store.flush(); // what a running agent writes within a second
  // A new agent process over the same state folder:
  const after = new CanaryController(fm.models, new CanaryStore(dir), clock, silentLogger);
  after.recover();
  const recovered = after.get(second.id);
  assert.equal(recovered.state, 'rolled_back');
  assert.match(recovered.reason!, /the agent restarted during the canary/);
  assert.equal(after.route('m'), undefined);
  controller.close();
});

test('controller: a promotion that cannot be persisted does not take effect; the canary is rolled back', async () => {
  // A state folder that cannot be created: a file stands where its parent should be.
  const blocker = join(mkdtempSync(join(tmpdir(), 'inferscope-canary-')), 'a-file');
  dirs.push(dirname(blocker));
  writeFileSync(blocker, '');
  const { clock, controller, serve, fm, store, warnings } = controllerSetup(join(blocker, 'state'));
  const c = controller.start(spec());
  for (let i = 0; i < 6; i++) {
    serve(400);
    clock.advance(10_000);
  }
  const done = controller.get(c.id);
  // The checks went on although history could not be written; only the promotion had to be.
  assert.deepEqual(done.checks.map((k) => k.decision), ['continue', 'next_step', 'continue', 'next_step', 'continue', 'promote']);
  assert.equal(done.state, 'rolled_back');
  assert.match(done.reason!, /^the canary could not continue: .*ENOTDIR/);
  assert.equal(fm.defaultVersion, '1');
  assert.equal(controller.route('m'), undefined);
  assert.equal(store.defaults.m, undefined, 'no later write persists the promotion either');
  await store.flush();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /canaries\.json could not be written \(.*ENOTDIR.*\); canary history may be lost at restart/);
});

/** A canary as the store sees it (only what the store and the summaries read). */
const stored = (id: string, state: Canary['state'] = 'running', extra: Partial<Canary> = {}) =>
  ({ id, model: 'm', state, ended_at: state === 'running' ? null : '2026-01-01T00:00:00.000Z', checks: [], ...extra }) as unknown as Canary;

function storeSetup(keep?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-canary-store-'));
  dirs.push(dir);
  const clock = new FakeClock();
  const store = new CanaryStore(dir, undefined, { clock, ...(keep ? { keep } : {}) });
  const file = join(dir, 'canaries.json');
  const onDisk = () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { canaries: Canary[] }).canaries.map((c) => `${c.id}:${c.state}`) : []);
  return { dir, clock, store, file, onDisk };
}

test('store: a save returns before any write; saves coalesce into one write at most every second', async () => {
  const { dir, clock, store, file, onDisk } = storeSetup();
  store.save(stored('a'));
  store.save(stored('b'));
  assert.deepEqual(onDisk(), [], "nothing is written on the caller's path");
  clock.advance(0); // the first write goes at once (off the caller's path)
  await store.settled();
  assert.deepEqual(onDisk(), ['a:running', 'b:running']);
  store.save(stored('a', 'aborted'));
  store.save(stored('c'));
  clock.advance(999);
  await store.settled();
  assert.deepEqual(onDisk(), ['a:running', 'b:running'], 'not written again within a second');
  clock.advance(1);
  await store.settled();
  assert.deepEqual(onDisk(), ['a:aborted', 'b:running', 'c:running'], 'both saves in one write');
  assert.equal(clock.pendingTimers, 0, 'nothing more to write');
  assert.deepEqual(readdirSync(dir), ['canaries.json'], 'no temporary file left behind');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
});

test('store: close writes what is pending; a save after it is written at once; a promotion never waits', async () => {
  const { clock, store, onDisk, dir } = storeSetup();
  store.save(stored('a'));
  store.save(stored('b', 'aborted'));
  await store.close();
  assert.deepEqual(onDisk(), ['a:running', 'b:aborted']);
  store.save(stored('a', 'rolled_back'));
  assert.deepEqual(onDisk(), ['a:rolled_back', 'b:aborted']);

  const other = new CanaryStore(join(dir, 'other'), undefined, { clock });
  other.save(stored('p'));
  other.save(stored('p', 'promoted'), { model: 'm', version: '2' });
  assert.deepEqual(new CanaryStore(join(dir, 'other')).defaults, { m: '2' }, 'on disk before save() returned');
  assert.deepEqual(new CanaryStore(join(dir, 'other')).canaries.map((c) => c.state), ['promoted']);
  assert.equal(clock.pendingTimers, 0, 'the promotion carried the pending write');
});

test('store: at most `keep` canaries, the oldest ended ones dropped first, running ones always kept', async () => {
  const { store, dir, onDisk } = storeSetup(3);
  store.save(stored('r'));
  for (let i = 0; i < 6; i++) store.save(stored(`e${i}`, 'aborted'));
  assert.deepEqual(store.canaries.map((c) => c.id), ['r', 'e4', 'e5']);
  await store.flush();
  assert.deepEqual(onDisk(), ['r:running', 'e4:aborted', 'e5:aborted']);
  for (let i = 0; i < 4; i++) store.save(stored(`r${i}`));
  assert.deepEqual(store.canaries.map((c) => c.id), ['r', 'r0', 'r1', 'r2', 'r3']);
  // A longer history written by an older agent is cut when read.
  writeFileSync(join(dir, 'canaries.json'), JSON.stringify({ canaries: Array.from({ length: 10 }, (_, i) => stored(`old${i}`, 'promoted')), defaults: {} }));
  assert.deepEqual(new CanaryStore(dir, undefined, { keep: 3 }).canaries.map((c) => c.id), ['old7', 'old8', 'old9']);
});

test("status summaries: running canaries and the 20 that ended last, with at most 12 checks, only for each model's latest", () => {
  const now = Date.parse('2026-01-01T02:00:00Z');
  const checks = (n: number) => Array.from({ length: n }, (_, i) => ({ at: new Date(now - 1000 * (n - i)).toISOString(), step: 0, weight: 10, samples: { baseline: i, candidate: i }, decision: 'continue', metrics: [] })) as CanaryCheck[];
  const ended = (id: string, model: string, minutesAgo: number, n = 15) => stored(id, 'aborted', { model, ended_at: new Date(now - minutesAgo * 60_000).toISOString(), checks: checks(n) });
  const all = [
    ended('b-old', 'b', 120),
    ...Array.from({ length: 30 }, (_, i) => ended(`a${i}`, 'a', 30 - i)),
    ended('b-new', 'b', 0.5, 3),
    stored('c-run', 'running', { model: 'c', checks: checks(40) }),
  ];
  const status = statusCanaries(all, now);
  assert.deepEqual(status.map((c) => c.id), [...Array.from({ length: 19 }, (_, i) => `a${i + 11}`), 'b-new', 'c-run']);
  const byId = new Map(status.map((c) => [c.id, c]));
  for (const c of status) assert.ok(!('checks' in c), `${c.id} carries no full list of checks`);
  assert.deepEqual([byId.get('c-run')!.check_count, byId.get('c-run')!.recent_checks.map((k) => k.samples.baseline)], [40, [28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]]);
  assert.deepEqual([byId.get('a29')!.check_count, byId.get('a29')!.recent_checks.length], [15, 12]);
  assert.deepEqual([byId.get('b-new')!.check_count, byId.get('b-new')!.recent_checks.length], [3, 3]);
  assert.deepEqual([byId.get('a11')!.check_count, byId.get('a11')!.recent_checks.length], [15, 0], 'older ones: the count only');
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
