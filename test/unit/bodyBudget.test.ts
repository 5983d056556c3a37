// The budget of body bytes being received at once (issue 16, item 1): stalled bodies make room,
// and large bodies never take the part kept for ordinary ones. Time comes from a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyBudget, SMALL_BODY, STALL_MS } from '../../agent/src/server/bodyReader.js';

const MiB = 1024 * 1024;

function setup(maxBytes = 64 * MiB) {
  let now = 0;
  const budget = new BodyBudget(maxBytes, () => now);
  const evicted: string[] = [];
  const hold = (name: string) => budget.hold(() => evicted.push(name));
  return { budget, evicted, hold, advance: (ms: number) => (now += ms) };
}

test('large bodies share all but an eighth of the budget; ordinary ones can still use the rest', () => {
  const { budget, hold } = setup();
  const large = Array.from({ length: 8 }, (_, i) => hold(`large${i}`));
  const admitted = large.filter((h) => budget.tryReserve(h, 8 * MiB)).length;
  assert.equal(admitted, 7, '7 × 8 MiB fit in 56 MiB; the 8th would reach into the ordinary part');
  for (let i = 0; i < 2000; i++) assert.ok(budget.tryReserve(hold(`small${i}`), 4096), `small body ${i}`);
  assert.equal(budget.inUse, 56 * MiB + 2000 * 4096);
});

test('when a body does not fit, the body stalled longest (≥ STALL_MS) is ended to make room, and only as many as needed', () => {
  const { budget, evicted, hold, advance } = setup(4 * SMALL_BODY);
  const [a, b, c] = [hold('a'), hold('b'), hold('c')];
  assert.ok(budget.tryReserve(a, SMALL_BODY));
  advance(100);
  assert.ok(budget.tryReserve(b, SMALL_BODY));
  assert.ok(budget.tryReserve(c, SMALL_BODY));
  assert.ok(budget.tryReserve(hold('d'), SMALL_BODY));
  // Full, and nobody has stalled yet: no room.
  assert.equal(budget.tryReserve(hold('e'), SMALL_BODY), false);
  assert.deepEqual(evicted, []);
  advance(STALL_MS);
  budget.progress(c); // c is still sending
  // a, b and d have stalled; a longest. Ending a is enough.
  assert.ok(budget.tryReserve(hold('f'), SMALL_BODY));
  assert.deepEqual(evicted, ['a']);
  assert.equal(budget.evictions, 1);
  assert.equal(budget.inUse, 4 * SMALL_BODY);
  // Releasing twice gives the bytes back once.
  budget.release(b);
  budget.release(b);
  assert.equal(budget.inUse, 3 * SMALL_BODY);
});

test('a body that keeps sending is never ended for room', () => {
  const { budget, evicted, hold, advance } = setup(2 * SMALL_BODY);
  const steady = [hold('s1'), hold('s2')];
  for (const h of steady) assert.ok(budget.tryReserve(h, SMALL_BODY));
  for (let i = 0; i < 5; i++) {
    advance(STALL_MS - 1);
    for (const h of steady) budget.progress(h);
    assert.equal(budget.tryReserve(hold(`n${i}`), 10), false);
  }
  assert.deepEqual(evicted, []);
});
