// The ended canaries the extension keeps whole for the panel's down state (issue 19): each asked
// for once, the newest ten, a failed fetch asked again, one already held ended not asked at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStatus, Canary, CanarySummary } from '../../common/api.js';
import { EndedCanaries } from '../../extension/src/canary/endedCanaries.js';

const summary = (id: string, state: CanarySummary['state'], minute: number) =>
  ({ id, state, model: 'digits', baseline: '1', candidate: '3', started_at: `2026-12-03T12:${String(minute).padStart(2, '0')}:00Z` }) as CanarySummary;
const status = (canaries: CanarySummary[]) => ({ canaries }) as unknown as AgentStatus;

function setup(fail = new Set<string>()) {
  const kept = new Map<string, Canary>();
  const fetched: string[] = [];
  const ended = new EndedCanaries(
    async (id) => {
      fetched.push(id);
      if (fail.has(id)) throw new Error('fetch failed');
      return { id, state: 'promoted', checks: [{}] } as unknown as Canary;
    },
    { known: (id) => kept.get(id), remember: (c) => kept.set(c.id, c) },
    3,
  );
  return { ended, kept, fetched };
}

test('an ended canary is fetched whole once; a running one is not fetched', async () => {
  const { ended, kept, fetched } = setup();
  await ended.onSnapshot(status([summary('a', 'promoted', 1), summary('b', 'running', 2)]));
  await ended.onSnapshot(status([summary('a', 'promoted', 1), summary('b', 'running', 2)]));
  assert.deepEqual(fetched, ['a']);
  assert.equal(kept.get('a')!.checks.length, 1, 'kept with its checks');
  await ended.onSnapshot(status([summary('a', 'promoted', 1), summary('b', 'rolled_back', 2)]));
  assert.deepEqual(fetched, ['a', 'b'], 'b is fetched once it has ended');
});

test('only the newest few are fetched, and one held ended already is not', async () => {
  const { ended, kept, fetched } = setup();
  kept.set('d', { id: 'd', state: 'aborted', checks: [] } as unknown as Canary);
  await ended.onSnapshot(status([1, 2, 3, 4, 5].map((m, i) => summary('abcde'[i]!, 'aborted', m))));
  assert.deepEqual(fetched.sort(), ['c', 'e'], 'the newest three are e, d, c; d is held');
});

test('a fetch that fails (the agent went away) is asked again on the next snapshot', async () => {
  const fail = new Set(['a']);
  const { ended, kept, fetched } = setup(fail);
  await ended.onSnapshot(status([summary('a', 'promoted', 1)]));
  assert.equal(kept.has('a'), false);
  fail.clear();
  await ended.onSnapshot(status([summary('a', 'promoted', 1)]));
  assert.deepEqual(fetched, ['a', 'a']);
  assert.equal(kept.get('a')!.state, 'promoted');
});
