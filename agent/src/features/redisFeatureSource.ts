// Redis as the shared online feature store (Feast's layout: one key per entity).
//   key   = <key_prefix><entity id>          e.g. inferscope:digits:digit-17
//   value = the vector as little-endian float32 bytes (a Redis string)
//   TTL   = optional; when set, the cache never keeps the vector longer than Redis does
// A request's missing keys are fetched in one round trip (one pipeline: MGET + a PTTL per key).
// The client fails fast while Redis is down (no offline queue) and reconnects by itself.
import { endianness } from 'node:os';
import { Redis } from 'ioredis';

const LITTLE_ENDIAN = endianness() === 'LE';
import type { FeatureSource, FetchedFeature } from './featureSource.js';

export interface RedisSourceOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
}

export class RedisFeatureSource implements FeatureSource {
  readonly kind = 'redis' as const;
  readonly name: string;
  private readonly client: Redis;
  private readyWait: Promise<void> | undefined;

  constructor(private readonly opts: RedisSourceOptions) {
    this.name = `${opts.url.replace(/\/\/[^@/]*@/, '//')}/${opts.keyPrefix}*`;
    this.client = new Redis(opts.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.timeoutMs,
      connectTimeout: Math.max(opts.timeoutMs, 1000),
      // Keep trying to come back, at most every 2 s.
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // Errors surface per request; without a listener ioredis would log every reconnect attempt.
    this.client.on('error', () => {});
  }

  async getMany(ids: string[]): Promise<Map<string, FetchedFeature | null>> {
    if (this.client.status !== 'ready') await this.ready();
    const keys = ids.map((id) => this.opts.keyPrefix + id);
    const pipeline = this.client.pipeline();
    pipeline.mgetBuffer(...keys);
    for (const key of keys) pipeline.pttl(key);
    const results = await pipeline.exec();
    if (!results) throw new Error('the Redis pipeline returned nothing');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
    const values = results[0]![1] as (Buffer | null)[];
    const out = new Map<string, FetchedFeature | null>();
    ids.forEach((id, i) => {
      const buf = values[i];
      if (!buf) return void out.set(id, null);
      if (buf.length % 4 !== 0) {
        out.set(id, { vector: new Float32Array(0) }); // reported as a wrong length by the caller
        return;
      }
      // On little-endian machines (x86, ARM) the bytes are the vector: one copy (which also aligns).
      let vector: Float32Array;
      if (LITTLE_ENDIAN) vector = new Float32Array(Uint8Array.from(buf).buffer);
      else {
        vector = new Float32Array(buf.length / 4);
        for (let j = 0; j < vector.length; j++) vector[j] = buf.readFloatLE(j * 4);
      }
      const pttl = results[i + 1]![1] as number;
      out.set(id, pttl > 0 ? { vector, ttlMs: pttl } : { vector });
    });
    return out;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  /** Waits (at most timeout_ms) for a connection that is being made; one wait shared by all callers. */
  private ready(): Promise<void> {
    this.readyWait ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        // this.name has the credentials taken out of the URL: this message reaches clients.
        reject(new Error(`no connection to ${this.name} (${this.client.status})`));
      }, this.opts.timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    }).finally(() => {
      this.readyWait = undefined;
    });
    return this.readyWait;
  }
}

/** Encodes a vector the way RedisFeatureSource reads it. */
export function encodeVector(vector: ArrayLike<number>): Buffer {
  const buf = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i]!, i * 4);
  return buf;
}
