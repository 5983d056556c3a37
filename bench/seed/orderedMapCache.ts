// The seed algorithm, ported for comparison: the classic TTL + LRU cache on an ordered Map
// (insertion order = recency): get moves the key to the end, set evicts the first key at capacity,
// expired entries are dropped when read.
export class OrderedMapCache<V> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    if (this.now() >= entry.expiresAt) {
      this.map.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    this.hits++;
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.map.size;
  }
}
