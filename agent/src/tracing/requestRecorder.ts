// The finished request and batch records, bounded: a ring of the last N requests, the last M
// failures (kept when the ring has moved on), the slowest request of each version in each minute of
// the last hour (so a spike an hour ago can still be opened), and a ring of the last batches.
// Knows nothing of HTTP; `now` (epoch ms) is injected for the minute buckets.
import type { BatchRecord, RequestRecord } from '../../../common/api.js';

export interface RecorderLimits {
  /** The last requests kept (any outcome). */
  requests: number;
  /** The last failed requests kept besides. */
  failures: number;
  /** The last batches kept. */
  batches: number;
  /** Minutes for which the slowest request of each version is kept. */
  slowestMinutes: number;
}

export const DEFAULT_RECORDER_LIMITS: RecorderLimits = { requests: 10_000, failures: 1_000, batches: 10_000, slowestMinutes: 60 };

export interface RequestQuery {
  model?: string;
  version?: string;
  outcome?: string;
  /** Only requests that took at least this long. */
  minMs?: number;
  /** Only requests received at or after this (epoch ms). */
  since?: number;
  /** Only requests received before this (epoch ms). */
  until?: number;
  /** Slowest first (the `limit` slowest of those that match), else newest first. */
  slowestFirst?: boolean;
  limit?: number;
}

/** A fixed-size ring; `values()` oldest first. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    if (this.capacity === 0) return;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  get size(): number {
    return this.count;
  }

  *newestFirst(): Generator<T> {
    for (let k = 1; k <= this.count; k++) yield this.items[(this.next - k + this.capacity) % this.capacity]!;
  }
}

export class RequestRecorder {
  private readonly recent: Ring<RequestRecord>;
  private readonly failures: Ring<RequestRecord>;
  private readonly batchRing: Ring<BatchRecord>;
  /** version key → minute (epoch ms / 60000) → the slowest request of that minute. */
  private readonly slowest = new Map<string, Map<number, RequestRecord>>();

  constructor(
    readonly limits: RecorderLimits = DEFAULT_RECORDER_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.recent = new Ring(limits.requests);
    this.failures = new Ring(limits.failures);
    this.batchRing = new Ring(limits.batches);
  }

  addRequest(r: RequestRecord): void {
    this.recent.push(r);
    if (r.outcome !== 'success') this.failures.push(r);
    if (r.version === undefined || this.limits.slowestMinutes === 0) return;
    const key = `${r.model}/${r.version}`;
    let minutes = this.slowest.get(key);
    if (!minutes) this.slowest.set(key, (minutes = new Map()));
    const minute = Math.floor(r.received_at / 60_000);
    const held = minutes.get(minute);
    if (!held || held.duration_ms < r.duration_ms) minutes.set(minute, r);
    // Minutes past the hour go once a minute, not at every request.
    const current = Math.floor(this.now() / 60_000);
    if (current !== this.prunedAt) {
      this.prunedAt = current;
      const oldest = current - this.limits.slowestMinutes;
      for (const versions of this.slowest.values()) for (const m of versions.keys()) if (m <= oldest) versions.delete(m);
    }
  }

  /** The minute of the last pruning of `slowest`. */
  private prunedAt = -1;

  addBatch(b: BatchRecord): void {
    this.batchRing.push(b);
  }

  /** Every request still held, newest first, each once. */
  private *all(): Generator<RequestRecord> {
    const seen = new Set<string>();
    const fresh = (r: RequestRecord) => !seen.has(r.id) && (seen.add(r.id), true);
    for (const r of this.recent.newestFirst()) if (fresh(r)) yield r;
    const older: RequestRecord[] = [];
    for (const r of this.failures.newestFirst()) if (fresh(r)) older.push(r);
    for (const minutes of this.slowest.values()) for (const r of minutes.values()) if (fresh(r)) older.push(r);
    older.sort((a, b) => b.received_at - a.received_at);
    yield* older;
  }

  /** By the agent's id, or else the newest with that client id. */
  request(id: string): RequestRecord | undefined {
    let byClient: RequestRecord | undefined;
    for (const r of this.all()) {
      if (r.id === id) return r;
      if (!byClient && r.client_id === id) byClient = r;
    }
    return byClient;
  }

  batch(id: string): BatchRecord | undefined {
    for (const b of this.batchRing.newestFirst()) if (b.id === id) return b;
    return undefined;
  }

  /** The batch's requests that are still held, in batch order. */
  requestsOf(batch: BatchRecord): RequestRecord[] {
    const wanted = new Set(batch.request_ids);
    const found = new Map<string, RequestRecord>();
    for (const r of this.all()) if (wanted.has(r.id)) found.set(r.id, r);
    return batch.request_ids.flatMap((id) => found.get(id) ?? []);
  }

  query(q: RequestQuery): RequestRecord[] {
    const limit = Math.max(0, q.limit ?? 100);
    const out: RequestRecord[] = [];
    for (const r of this.all()) {
      // Slowest first needs every match before the limit applies.
      if (out.length >= limit && !q.slowestFirst) break;
      if (q.model !== undefined && r.model !== q.model) continue;
      if (q.version !== undefined && r.version !== q.version) continue;
      if (q.outcome !== undefined && r.outcome !== q.outcome) continue;
      if (q.minMs !== undefined && r.duration_ms < q.minMs) continue;
      if (q.since !== undefined && r.received_at < q.since) continue;
      if (q.until !== undefined && r.received_at >= q.until) continue;
      out.push(r);
    }
    if (q.slowestFirst) return out.sort((a, b) => b.duration_ms - a.duration_ms || b.received_at - a.received_at).slice(0, limit);
    return out;
  }

  stats(): { requests: number; failures: number; slowest: number; batches: number } {
    let slowest = 0;
    for (const m of this.slowest.values()) slowest += m.size;
    return { requests: this.recent.size, failures: this.failures.size, slowest, batches: this.batchRing.size };
  }
}
