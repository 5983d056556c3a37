import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntityNotFoundError, FeatureSourceUnavailableError } from '../../agent/src/errors.js';
import { FeatureCache, type FeatureCacheOptions } from '../../agent/src/features/featureCache.js';
import type { FeatureSource, FetchedFeature } from '../../agent/src/features/featureSource.js';
import { FakeClock, flush } from '../helpers/fakeClock.js';

/** An in-memory source that records its calls and can be made slow or down. */
class MemorySource implements FeatureSource {
  readonly kind = 'file' as const;
  readonly name = 'memory';
  data = new Map<string, Float32Array>();
  calls: string[][] = [];
  down = false;
  gate: Promise<void> | undefined;
  ttls = new Map<string, number>();
  async getMany(ids: string[]): Promise<Map<string, FetchedFeature | null>> {
    this.calls.push(ids);
    if (this.gate) await this.gate;
    if (this.down) throw new Error('connection refused');
    return new Map(ids.map((id) => {
      const v = this.data.get(id);
      const ttl = this.ttls.get(id);
      return [id, v ? { vector: v.slice(), ...(ttl ? { ttlMs: ttl } : {}) } : null];
    }));
  }
  async close(): Promise<void> {}
}

const vec = (x: number, n = 4) => new Float32Array(n).fill(x);
const base: FeatureCacheOptions = { label: 'm', maxEntries: 100, maxBytes: 1 << 20, ttlMs: 1000, negativeTtlMs: 100, staleMs: 0 };

function setup(opts: Partial<FeatureCacheOptions> = {}) {
  const clock = new FakeClock();
  const source = new MemorySource();
  for (let i = 0; i < 10; i++) source.data.set(`e${i}`, vec(i));
  const cache = new FeatureCache(source, { ...base, ...opts }, clock, 0);
  return { clock, source, cache };
}

test('misses go to the source in one call; then hits come from the cache', async () => {
  const { cache, source } = setup();
  const got = await cache.getMany(['e1', 'e2', 'e1']);
  assert.deepEqual(got.map((v) => v[0]), [1, 2, 1]);
  assert.deepEqual(source.calls, [['e1', 'e2']]);
  await cache.getMany(['e2', 'e1']);
  assert.equal(source.calls.length, 1);
  const s = cache.stats();
  assert.deepEqual([s.hits, s.misses, s.entries], [2, 3, 2]);
  assert.equal(s.hit_rate, 2 / 5);
});

test('TTL: an expired entry is never served (no stale serving); it is fetched again', async () => {
  const { cache, source, clock } = setup();
  await cache.getMany(['e1']);
  source.data.set('e1', vec(11));
  clock.advance(999);
  assert.equal((await cache.getMany(['e1']))[0]![0], 1);
  clock.advance(1);
  assert.equal((await cache.getMany(['e1']))[0]![0], 11);
  assert.equal(source.calls.length, 2);
});

test('a per-key TTL from the source shortens the entry', async () => {
  const { cache, source, clock } = setup();
  source.ttls.set('e1', 200);
  await cache.getMany(['e1', 'e2']);
  clock.advance(200);
  await cache.getMany(['e1', 'e2']);
  assert.deepEqual(source.calls, [['e1', 'e2'], ['e1']]);
});

test('LRU on entry capacity evicts the least recently used, counted as capacity', async () => {
  const { cache, source } = setup({ maxEntries: 3 });
  await cache.getMany(['e1', 'e2', 'e3']);
  await cache.getMany(['e1']); // e2 is now the least recently used
  await cache.getMany(['e4']);
  assert.equal(cache.stats().evictions.capacity, 1);
  source.calls = [];
  await cache.getMany(['e1', 'e3', 'e4']);
  assert.deepEqual(source.calls, []);
  await cache.getMany(['e2']);
  assert.deepEqual(source.calls, [['e2']]);
});

test('the byte bound evicts by size', async () => {
  const { cache, source } = setup({ maxBytes: 2 * (4 * 1024 + 200) });
  for (let i = 0; i < 3; i++) source.data.set(`big${i}`, vec(i, 1024));
  await cache.getMany(['big0', 'big1']);
  assert.equal(cache.stats().entries, 2);
  await cache.getMany(['big2']);
  const s = cache.stats();
  assert.equal(s.entries, 2);
  assert.equal(s.evictions.capacity, 1);
  assert.ok(s.bytes <= s.max_bytes);
});

test('concurrent misses for the same key share one fetch', async () => {
  const { cache, source } = setup();
  let open!: () => void;
  source.gate = new Promise((r) => (open = r));
  const a = cache.getMany(['e5']);
  const b = cache.getMany(['e5', 'e6']);
  await flush();
  open();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra[0]![0], 5);
  assert.deepEqual(rb.map((v) => v[0]), [5, 6]);
  assert.deepEqual(source.calls, [['e5'], ['e6']]);
});

test('not found is cached briefly (negative caching) and named in the error', async () => {
  const { cache, source, clock } = setup();
  await assert.rejects(cache.getMany(['e1', 'ghost']), (e: unknown) => e instanceof EntityNotFoundError && /no features for entity "ghost" in memory/.test((e as Error).message));
  await assert.rejects(cache.getMany(['ghost']), EntityNotFoundError);
  assert.equal(source.calls.length, 1);
  assert.equal(cache.stats().negative_hits, 1);
  source.data.set('ghost', vec(7));
  clock.advance(100);
  assert.equal((await cache.getMany(['ghost']))[0]![0], 7);
});

test('stale-while-revalidate: past its TTL an entry is served once more while one refresh runs', async () => {
  const { cache, source, clock } = setup({ staleMs: 500 });
  await cache.getMany(['e1']);
  source.data.set('e1', vec(21));
  clock.advance(1200);
  assert.equal((await cache.getMany(['e1']))[0]![0], 1, 'stale value served');
  await flush();
  assert.equal(source.calls.length, 2, 'refreshed in the background');
  assert.equal((await cache.getMany(['e1']))[0]![0], 21);
  assert.equal(cache.stats().stale_hits, 1);
  clock.advance(1600); // past TTL + stale window: gone
  source.data.set('e1', vec(31));
  assert.equal((await cache.getMany(['e1']))[0]![0], 31);
});

test('source down: cached keys keep serving, others fail with 503 naming the source; recovery without restart', async () => {
  const { cache, source } = setup();
  await cache.getMany(['e1']);
  source.down = true;
  assert.equal((await cache.getMany(['e1']))[0]![0], 1);
  await assert.rejects(cache.getMany(['e1', 'e2']), (e: unknown) => e instanceof FeatureSourceUnavailableError && /feature source memory for m is unavailable \(connection refused\)/.test((e as Error).message));
  assert.equal(cache.stats().source.healthy, false);
  assert.equal(cache.stats().source.errors, 1);
  source.down = false;
  assert.equal((await cache.getMany(['e2']))[0]![0], 2);
  assert.equal(cache.stats().source.healthy, true);
});

test('expired entries are purged and counted as expired', async () => {
  const clock = new FakeClock();
  const source = new MemorySource();
  source.data.set('a', vec(1));
  const cache = new FeatureCache(source, base, clock, 0);
  await cache.getMany(['a']);
  clock.advance(1001);
  (cache as unknown as { lru: { purgeStale(): void } }).lru.purgeStale();
  assert.equal(cache.stats().entries, 0);
  assert.equal(cache.stats().evictions.expired, 1);
});

test('clear() drops everything', async () => {
  const { cache } = setup();
  await cache.getMany(['e1', 'e2']);
  assert.equal(cache.clear(), 2);
  assert.equal(cache.stats().entries, 0);
});

test('an entity deleted at the source is not served stale when negative caching is off', async () => {
  const { cache, source, clock } = setup({ staleMs: 5000, negativeTtlMs: 0 });
  await cache.getMany(['e1']);
  source.data.delete('e1');
  clock.advance(1000);
  assert.equal((await cache.getMany(['e1']))[0]![0], 1, 'stale once, while the refresh runs');
  await flush();
  await assert.rejects(cache.getMany(['e1']), /no features for entity "e1"/);
});

test('a request with several stale entries refreshes them in one fetch; a failing source is not hammered', async () => {
  const { cache, source, clock } = setup({ staleMs: 5000 });
  await cache.getMany(['e1', 'e2', 'e3']);
  clock.advance(1000);
  source.calls = [];
  await cache.getMany(['e1', 'e2', 'e3']);
  await flush();
  assert.deepEqual(source.calls, [['e1', 'e2', 'e3']]);
  clock.advance(1000);
  source.down = true;
  source.calls = [];
  for (let i = 0; i < 5; i++) {
    await cache.getMany(['e1']);
    await flush();
  }
  assert.equal(source.calls.length, 1, 'one failed refresh, then a back-off');
});
