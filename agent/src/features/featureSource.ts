// Where entity feature vectors come from. The cache sits in front of one of these.

export interface FetchedFeature {
  vector: Float32Array;
  /** Time to live the source knows for this key (e.g. a Redis key's PTTL), if any. */
  ttlMs?: number;
}

export interface FeatureSource {
  /** "file:features/index.json", "redis://127.0.0.1:6379/…": named in errors and metrics. */
  readonly name: string;
  readonly kind: 'file' | 'redis';
  /** One round trip for all ids; a missing id maps to null. Throws if the source is unavailable. */
  getMany(ids: string[]): Promise<Map<string, FetchedFeature | null>>;
  close(): Promise<void>;
}
