import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitOpenError } from '../../agent/src/errors.js';
import { breakerSettingsSchema, type BreakerSettings } from '../../agent/src/resilience/breakerSettings.js';
import { CircuitBreaker, type BreakerTransition } from '../../agent/src/resilience/circuitBreaker.js';
import { FakeClock } from '../helpers/fakeClock.js';

function setup(settings: Partial<BreakerSettings> = {}) {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker('digits/2', breakerSettingsSchema.parse(settings), clock, () => 1_000_000 + clock.now());
  const transitions: BreakerTransition[] = [];
  breaker.on('transition', (t) => transitions.push(t));
  const call = (outcome: 'success' | 'failure' | 'ignored', ms = 1) => breaker.admit().record(outcome, ms);
  return { clock, breaker, transitions, call };
}

const rejects = (breaker: CircuitBreaker, message: RegExp) =>
  assert.throws(() => breaker.admit(), (e: unknown) => e instanceof CircuitOpenError && message.test(e.message));

test('defaults are the classic breaker: 5 consecutive failures open it; a success resets the count', () => {
  const { breaker, call, transitions } = setup();
  for (let i = 0; i < 4; i++) call('failure');
  call('success');
  for (let i = 0; i < 4; i++) call('failure');
  assert.equal(breaker.currentState, 'closed');
  call('failure');
  assert.equal(breaker.currentState, 'open');
  assert.deepEqual(transitions.map((t) => [t.from, t.to, t.reason]), [['closed', 'open', '5 consecutive failures']]);
  rejects(breaker, /^circuit breaker open for digits\/2 \(5 consecutive failures\); next trial in 30 s$/);
});

test('open → half-open after the open duration; one trial; success closes, failure reopens', () => {
  const { breaker, call, clock, transitions } = setup({ consecutive_failures: 2, open_duration_ms: 10_000 });
  call('failure');
  call('failure');
  clock.advance(9_999);
  rejects(breaker, /next trial in 1 s/);
  assert.equal(breaker.retryAfterS(), 1);
  clock.advance(1);
  const trial = breaker.admit();
  assert.equal(breaker.currentState, 'half_open');
  rejects(breaker, /half-open for digits\/2: its trial requests are running/);
  trial.record('failure', 1);
  assert.equal(breaker.currentState, 'open');
  clock.advance(10_000);
  breaker.admit().record('success', 1);
  assert.equal(breaker.currentState, 'closed');
  assert.deepEqual(transitions.map((t) => t.to), ['open', 'half_open', 'open', 'half_open', 'closed']);
  assert.equal(transitions[4]!.reason, '1 trial request succeeded');
});

test('failure-rate rule waits for minimum_calls, then trips on the rate over the window', () => {
  const { breaker, call } = setup({ trip: 'failure_rate', failure_rate_threshold: 0.5, window_size: 10, minimum_calls: 6 });
  for (let i = 0; i < 5; i++) call('failure');
  assert.equal(breaker.currentState, 'closed', 'fewer than minimum_calls');
  call('success');
  assert.equal(breaker.currentState, 'open', '5 of 6 failed');
  assert.match(breaker.snapshot().last_reason!, /failure rate 83% over the last 6 calls \(threshold 50%\)/);
});

test('failure-rate window slides: old failures drop out', () => {
  const { breaker, call } = setup({ trip: 'failure_rate', failure_rate_threshold: 0.5, window_size: 4, minimum_calls: 4 });
  call('failure');
  call('success');
  call('success');
  call('success'); // 1/4
  call('failure'); // window [s,s,s,f] 1/4
  assert.equal(breaker.currentState, 'closed');
  assert.deepEqual(breaker.snapshot().window, { calls: 4, failures: 1, slow: 0, failure_rate: 0.25, slow_rate: 0 });
  call('failure'); // [s,s,f,f] 2/4
  assert.equal(breaker.currentState, 'open');
});

test('slow calls trip it by slow-call rate, and a slow trial reopens it', () => {
  const { breaker, call, clock } = setup({ slow_call_ms: 100, slow_call_rate_threshold: 0.5, minimum_calls: 4, open_duration_ms: 1000 });
  call('success', 150);
  call('success', 10);
  call('success', 120);
  assert.equal(breaker.currentState, 'closed');
  call('success', 20);
  assert.equal(breaker.currentState, 'open');
  assert.match(breaker.snapshot().last_reason!, /slow-call rate 50% over the last 4 calls \(slower than 100 ms\)/);
  clock.advance(1000);
  breaker.admit().record('success', 500);
  assert.equal(breaker.currentState, 'open');
  assert.match(breaker.snapshot().last_reason!, /a trial request took 500 ms/);
});

test('half-open admits exactly half_open_permits trials under concurrency; all must succeed to close', () => {
  const { breaker, call, clock } = setup({ consecutive_failures: 1, half_open_permits: 3, open_duration_ms: 1000 });
  call('failure');
  clock.advance(1000);
  const admitted: ReturnType<CircuitBreaker['admit']>[] = [];
  let rejected = 0;
  for (let i = 0; i < 50; i++) {
    try {
      admitted.push(breaker.admit());
    } catch (e) {
      assert.ok(e instanceof CircuitOpenError);
      rejected++;
    }
  }
  assert.equal(admitted.length, 3);
  assert.equal(rejected, 47);
  admitted[0]!.record('success', 1);
  admitted[1]!.record('success', 1);
  assert.equal(breaker.currentState, 'half_open');
  admitted[2]!.record('success', 1);
  assert.equal(breaker.currentState, 'closed');
});

test('an ignored trial (client cancelled, queue full) gives its permit back', () => {
  const { breaker, call, clock } = setup({ consecutive_failures: 1, open_duration_ms: 1000 });
  call('failure');
  clock.advance(1000);
  breaker.admit().record('ignored', 1);
  breaker.admit().record('success', 1);
  assert.equal(breaker.currentState, 'closed');
});

test('half-open with no trial outcome goes back to open after half_open_timeout_ms instead of sticking', () => {
  const { breaker, call, clock, transitions } = setup({ consecutive_failures: 1, open_duration_ms: 1000, half_open_timeout_ms: 5000 });
  call('failure');
  clock.advance(1000);
  const lost = breaker.admit(); // a trial whose outcome never comes
  clock.advance(5000);
  assert.equal(breaker.currentState, 'open');
  assert.match(transitions.at(-1)!.reason, /no trial outcome within 5000 ms in half-open/);
  lost.record('success', 1); // too late: admitted under another state, not counted
  assert.equal(breaker.currentState, 'open');
  clock.advance(1000);
  breaker.admit().record('success', 1);
  assert.equal(breaker.currentState, 'closed');
});

test('outcomes of calls admitted before a transition do not count after it', () => {
  const { breaker, call } = setup({ consecutive_failures: 2 });
  const early = [breaker.admit(), breaker.admit(), breaker.admit()];
  call('failure');
  call('failure');
  assert.equal(breaker.currentState, 'open');
  const before = breaker.snapshot().totals;
  for (const t of early) t.record('failure', 1);
  assert.deepEqual(breaker.snapshot().totals, before);
  assert.equal(breaker.snapshot().trips, 1);
});

test('open duration grows with repeated trips and is capped', () => {
  const { breaker, call, clock } = setup({ consecutive_failures: 1, open_duration_ms: 1000, open_backoff_multiplier: 2, max_open_duration_ms: 3000 });
  const durations: number[] = [];
  call('failure');
  for (let i = 0; i < 4; i++) {
    durations.push(breaker.retryAfterS());
    clock.advance(durations.at(-1)! * 1000);
    breaker.admit().record('failure', 1);
  }
  assert.deepEqual(durations, [1, 2, 3, 3]);
  clock.advance(3000);
  breaker.admit().record('success', 1);
  call('failure');
  assert.equal(breaker.retryAfterS(), 1, 'closing resets the backoff');
});

test('manual open holds until reset; reset closes and clears counters; both are events', () => {
  const { breaker, call, clock, transitions } = setup({ open_duration_ms: 1000 });
  call('failure');
  breaker.forceOpen();
  clock.advance(1_000_000);
  rejects(breaker, /circuit breaker open for digits\/2 \(opened by hand\); reset it to serve this version/);
  assert.equal(breaker.snapshot().next_trial_at, null);
  breaker.reset();
  assert.equal(breaker.currentState, 'closed');
  assert.equal(breaker.snapshot().consecutive_failures, 0);
  assert.deepEqual(transitions.map((t) => [t.to, t.reason]), [['open', 'opened by hand'], ['closed', 'reset by hand']]);
});

test('rejections and outcomes are counted and emitted; snapshot says when the next trial is', () => {
  const { breaker, call, clock } = setup({ consecutive_failures: 1, open_duration_ms: 12_000 });
  const calls: string[] = [];
  let rejected = 0;
  breaker.on('call', (o) => calls.push(o));
  breaker.on('rejected', () => rejected++);
  call('success');
  call('failure');
  assert.throws(() => breaker.admit());
  const snap = breaker.snapshot();
  assert.deepEqual(calls, ['success', 'failure']);
  assert.equal(rejected, 1);
  assert.deepEqual(snap.totals, { successes: 1, failures: 1, slow: 0, rejected: 1 });
  assert.equal(snap.next_trial_at, 1_000_000 + clock.now() + 12_000);
  assert.equal(snap.opened_at, 1_000_000 + clock.now());
});
