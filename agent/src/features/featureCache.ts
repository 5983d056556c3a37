// The feature cache in front of one feature source: TTL + LRU, bounded by entries and by bytes
// (lru-cache v11 holds the entries). On top of it:
//  - all of a request's misses go to the source in one call (one MGET), and concurrent misses for
//    the same key share one fetch (in-flight dedup across requests);
//  - "not found" is cached briefly (negative_ttl_ms), so a hot unknown id does not hammer the source;
//  - with stale_ms > 0, an entry past its TTL is served for that long while one background refresh
//    runs (stale-while-revalidate); otherwise expired entries are never served;
//  - expired entries are dropped lazily on access and by a periodic purge off the request path;
//  - if the source fails, keys that are cached keep serving; the others fail with a 503 naming
//    the source, and service recovers on its own when the source does.
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import type { CacheStatus } from '../../../common/api.js';
import { EntityNotFoundError, FeatureSourceUnavailableError } from '../errors.js';
import type { Clock } from '../time/clock.js';
import type { FeatureSource, FetchedFeature } from './featureSource.js';

export interface FeatureCacheOptions {
  /** "digits", for messages. */
  label: string;
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  negativeTtlMs: number;
  staleMs: number;
}

export type LookupResult = 'hit' | 'miss' | 'stale' | 'negative_hit';

/** How one getMany call's ids were found. */
export interface LookupCounts {
  count: number;
  hits: number;
  misses: number;
  stale: number;
  negative: number;
}
export type EvictionReason = 'capacity' | 'expired';

/** The cache's statistics, as /api/v1/status shows them. */
export type FeatureCacheStats = CacheStatus;

interface Entry {
  /** null: the source said "not found". */
  vector: Float32Array | null;
  /** Fresh until this time (ms, cache clock). */
  freshUntil: number;
}

const ENTRY_OVERHEAD_BYTES = 96;
/** After a failed background refresh, stale entries are served without refreshing this long. */
const REFRESH_BACKOFF_MS = 1000;

export class FeatureCache extends EventEmitter<{
  lookup: [LookupResult, number];
  eviction: [EvictionReason];
  fetch: [durationS: number, ok: boolean];
}> {
  private readonly lru: LRUCache<string, Entry>;
  /** Fetches in flight, by key: the promise of the whole batch the key is part of. */
  private readonly inFlight = new Map<string, Promise<Map<string, Entry>>>();
  private readonly counts = { hit: 0, miss: 0, stale: 0, negative_hit: 0 };
  private readonly evictions: Record<EvictionReason, number> = { capacity: 0, expired: 0 };
  private readonly sourceState = { healthy: true, lastError: null as string | null, fetches: 0, errors: 0 };
  private purgeTimer: NodeJS.Timeout | undefined;
  private refreshBackoffUntil = 0;

  constructor(
    readonly source: FeatureSource,
    private readonly opts: FeatureCacheOptions,
    private readonly clock: Clock,
    purgeIntervalMs = 10_000,
  ) {
    super();
    this.lru = new LRUCache<string, Entry>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      sizeCalculation: (e, key) => (e.vector?.byteLength ?? 0) + key.length * 2 + ENTRY_OVERHEAD_BYTES,
      ttl: opts.ttlMs + opts.staleMs,
      ttlResolution: 0,
      allowStale: false,
      updateAgeOnGet: false,
      perf: { now: () => clock.now() },
      dispose: (_e, _k, reason) => {
        const why: EvictionReason | undefined = reason === 'evict' ? 'capacity' : reason === 'expire' ? 'expired' : undefined;
        if (!why) return;
        this.evictions[why]++;
        this.emit('eviction', why);
      },
    });
    if (purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => this.lru.purgeStale(), purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  /**
   * Vectors for the ids, in order. Unknown ids → EntityNotFoundError naming them. `found`, when
   * given, is told how this call's ids were found (a request's record shows it).
   */
  async getMany(ids: string[], found?: LookupCounts): Promise<Float32Array[]> {
    const now = this.clock.now();
    const result: (Entry | undefined)[] = new Array(ids.length);
    let missing: string[] | undefined;
    let staleIds: string[] | undefined;
    let hits = 0;
    let negative = 0;
    let stale = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const entry = this.lru.get(id);
      if (entry && now < entry.freshUntil) {
        if (entry.vector) hits++;
        else negative++;
        result[i] = entry;
      } else if (entry && this.opts.staleMs > 0 && entry.vector) {
        stale++;
        result[i] = entry;
        (staleIds ??= []).push(id);
      } else {
        (missing ??= []).push(id);
      }
    }
    this.count('hit', hits);
    this.count('negative_hit', negative);
    this.count('stale', stale);
    if (found) Object.assign(found, { count: ids.length, hits, negative, stale, misses: missing?.length ?? 0 });
    // Stale entries are refreshed in the background, all of this request's in one fetch, and not
    // again while the source is known to be failing (no refresh storm against a dead source).
    if (staleIds && this.clock.now() >= this.refreshBackoffUntil) {
      void this.fetch(staleIds).catch(() => {
        this.refreshBackoffUntil = this.clock.now() + REFRESH_BACKOFF_MS;
      });
    }
    if (missing) {
      this.count('miss', missing.length);
      const fetched = await this.fetch(missing.length > 1 ? [...new Set(missing)] : missing);
      for (let i = 0; i < ids.length; i++) result[i] ??= fetched.get(ids[i]!);
    }
    const vectors: Float32Array[] = new Array(ids.length);
    let unknown: string[] | undefined;
    for (let i = 0; i < ids.length; i++) {
      const v = result[i]?.vector;
      if (v) vectors[i] = v;
      else (unknown ??= []).push(ids[i]!);
    }
    if (unknown) {
      const shown = unknown.slice(0, 5).map((u) => `"${u}"`).join(', ');
      throw new EntityNotFoundError(
        `no features for entit${unknown.length > 1 ? 'ies' : 'y'} ${shown}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} in ${this.source.name}`,
      );
    }
    return vectors;
  }

  /** Drops every entry; returns how many there were. */
  clear(): number {
    const n = this.lru.size;
    this.lru.clear();
    return n;
  }

  stats(): FeatureCacheStats {
    const lookups = this.counts.hit + this.counts.miss + this.counts.stale + this.counts.negative_hit;
    return {
      entries: this.lru.size,
      bytes: this.lru.calculatedSize,
      max_entries: this.opts.maxEntries,
      max_bytes: this.opts.maxBytes,
      hits: this.counts.hit,
      misses: this.counts.miss,
      stale_hits: this.counts.stale,
      negative_hits: this.counts.negative_hit,
      hit_rate: lookups ? (this.counts.hit + this.counts.stale + this.counts.negative_hit) / lookups : 0,
      evictions: { ...this.evictions },
      source: {
        name: this.source.name,
        kind: this.source.kind,
        healthy: this.sourceState.healthy,
        last_error: this.sourceState.lastError,
        fetches: this.sourceState.fetches,
        errors: this.sourceState.errors,
      },
    };
  }

  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.source.close();
  }

  private count(result: LookupResult, n: number): void {
    if (n === 0) return;
    this.counts[result] += n;
    this.emit('lookup', result, n);
  }

  /** Fetches ids, sharing fetches already in flight; stores what comes back. */
  private async fetch(ids: string[]): Promise<Map<string, Entry>> {
    const batches = new Set<Promise<Map<string, Entry>>>();
    const toFetch: string[] = [];
    for (const id of ids) {
      const pending = this.inFlight.get(id);
      if (pending) batches.add(pending);
      else toFetch.push(id);
    }
    if (toFetch.length) {
      const batch = this.fetchFromSource(toFetch);
      for (const id of toFetch) this.inFlight.set(id, batch);
      const done = () => {
        for (const id of toFetch) if (this.inFlight.get(id) === batch) this.inFlight.delete(id);
      };
      batch.then(done, done);
      if (batches.size === 0) return batch; // the common case: nothing shared
      batches.add(batch);
    }
    const out = new Map<string, Entry>();
    for (const m of await Promise.all(batches)) for (const [id, e] of m) out.set(id, e);
    return out;
  }

  private async fetchFromSource(ids: string[]): Promise<Map<string, Entry>> {
    const started = this.clock.now();
    let fetched: Map<string, FetchedFeature | null>;
    this.sourceState.fetches++;
    try {
      fetched = await this.source.getMany(ids);
    } catch (err) {
      this.sourceState.errors++;
      this.sourceState.healthy = false;
      this.sourceState.lastError = (err as Error).message;
      this.emit('fetch', (this.clock.now() - started) / 1000, false);
      throw new FeatureSourceUnavailableError(
        `feature source ${this.source.name} for ${this.opts.label} is unavailable (${(err as Error).message}); ` +
          'cached entities still work',
      );
    }
    this.sourceState.healthy = true;
    this.emit('fetch', (this.clock.now() - started) / 1000, true);
    const now = this.clock.now();
    const entries = new Map<string, Entry>();
    for (const id of ids) {
      const f = fetched.get(id) ?? null;
      const ttl = f ? Math.min(this.opts.ttlMs, f.ttlMs ?? Infinity) : this.opts.negativeTtlMs;
      const entry: Entry = { vector: f?.vector ?? null, freshUntil: now + ttl };
      entries.set(id, entry);
      // The stale window applies to the cache's own TTL; a key the source expires sooner is gone
      // from the source, so the cache does not keep it past that.
      const keep = f ? (f.ttlMs !== undefined && f.ttlMs < this.opts.ttlMs ? ttl : ttl + this.opts.staleMs) : ttl;
      if (keep > 0) this.lru.set(id, entry, { ttl: keep });
      else this.lru.delete(id); // "not found" with no negative caching: drop any older entry
    }
    return entries;
  }
}
