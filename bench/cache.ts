// npm run bench:cache — the feature cache's hit path and fill path against raw lru-cache and the
// seed algorithm (an ordered Map), at 10k, 100k and 1M entries of 784-float vectors, with memory
// per entry; and Redis: 64 entities in one pipeline (MGET) against 64 sequential GETs.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';
import { FeatureCache } from '../agent/src/features/featureCache.js';
import type { FeatureSource, FetchedFeature } from '../agent/src/features/featureSource.js';
import { RedisFeatureSource, encodeVector } from '../agent/src/features/redisFeatureSource.js';
import { systemClock } from '../agent/src/time/clock.js';
import { RedisServer } from '../test/helpers/redisServer.js';
import { findBinary } from '../test/helpers/systemBinary.js';
import { OrderedMapCache } from './seed/orderedMapCache.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,100000,1000000' }, seconds: { type: 'string', default: '1' } } });
const sizes = values.sizes!.split(',').map(Number);
const seconds = Number(values.seconds);
const DIM = 784;
const BATCH = 64;

/** An instant in-memory source (the fill path measures the cache, not a store). */
class MemorySource implements FeatureSource {
  readonly kind = 'file' as const;
  readonly name = 'memory';
  constructor(private readonly vectors: Map<string, Float32Array>) {}
  async getMany(ids: string[]): Promise<Map<string, FetchedFeature | null>> {
    return new Map(ids.map((id) => [id, { vector: this.vectors.get(id)! }]));
  }
  async close(): Promise<void> {}
}

async function opsPerSecond(step: (i: number) => unknown): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  for (let i = 0; performance.now() < end; i++) {
    const r = step(i);
    if (r instanceof Promise) await r;
    ops++;
  }
  return ops / seconds;
}

function memoryBytes(): number {
  global.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function redisPart(): Promise<void> {
  const redisBin = findBinary('redis-server');
  if (!redisBin) {
    console.log('\nredis-server not installed (apt-get install -y redis-server): Redis part skipped');
    return;
  }
  const server = await RedisServer.start(redisBin);
  try {
    const client = new Redis(server.url);
    const ids = Array.from({ length: 1000 }, (_, i) => `digit-${i}`);
    const pipe = client.pipeline();
    for (const id of ids) pipe.set(`bench:${id}`, encodeVector(new Float32Array(DIM).fill(0.5)));
    await pipe.exec();
    const source = new RedisFeatureSource({ url: server.url, keyPrefix: 'bench:', timeoutMs: 1000 });
    const batch = (i: number) => Array.from({ length: BATCH }, (_, k) => ids[(i * BATCH + k) % ids.length]!);
    const pipelined = await opsPerSecond((i) => source.getMany(batch(i)));
    const sequential = await opsPerSecond(async (i) => {
      for (const id of batch(i)) await client.getBuffer(`bench:${id}`);
    });
    console.log(`\nRedis, ${BATCH} entities of ${DIM} floats per call:`);
    console.log(`  one pipeline (MGET + PTTLs): ${(1000 / pipelined).toFixed(2)} ms per call`);
    console.log(`  ${BATCH} sequential GETs:        ${(1000 / sequential).toFixed(2)} ms per call`);
    console.log(`  ratio sequential / pipeline: ${(pipelined / sequential).toFixed(1)}×`);
    client.disconnect();
    await source.close();
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  await redisPart(); // first: the big in-memory runs below put the machine under GC pressure
  console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${DIM}-float vectors; hit lookups of ${BATCH} random keys per call`);
  console.log(`\n${'entries'.padStart(9)}  ${'implementation'.padEnd(26)}${'get ns/key'.padStart(11)}${'fill ns/key'.padStart(12)}${'overhead B/entry'.padStart(18)}`);
  for (const n of sizes) {
    const ids = Array.from({ length: n }, (_, i) => `digit-${i}`);
    const vectors = new Map(ids.map((id, i) => [id, new Float32Array(DIM).fill(i % 255)]));
    const pick = (i: number) => ids[(Math.imul(i, 2654435761) >>> 0) % n]!;
    const rows: [string, number, number, number][] = [];

    {
      const before = memoryBytes();
      const cache = new FeatureCache(new MemorySource(vectors), { label: 'bench', maxEntries: n, maxBytes: 2 ** 40, ttlMs: 3_600_000, negativeTtlMs: 1000, staleMs: 0 }, systemClock, 0);
      const t0 = performance.now();
      for (let i = 0; i < n; i += BATCH) await cache.getMany(ids.slice(i, i + BATCH));
      const fill = ((performance.now() - t0) * 1e6) / n;
      const overhead = (memoryBytes() - before) / n;
      const batch = Array.from({ length: BATCH }, (_, k) => k);
      const get = 1e9 / ((await opsPerSecond((i) => cache.getMany(batch.map((k) => pick(i * BATCH + k))))) * BATCH);
      rows.push(['inferscope FeatureCache', get, fill, overhead]);
    }
    {
      const before = memoryBytes();
      const lru = new LRUCache<string, Float32Array>({ max: n, ttl: 3_600_000, ttlResolution: 0 });
      const t0 = performance.now();
      for (const id of ids) lru.set(id, vectors.get(id)!);
      const fill = ((performance.now() - t0) * 1e6) / n;
      const overhead = (memoryBytes() - before) / n;
      const get = 1e9 / ((await opsPerSecond((i) => {
        for (let k = 0; k < BATCH; k++) lru.get(pick(i * BATCH + k));
      })) * BATCH);
      rows.push(['lru-cache v11 (raw)', get, fill, overhead]);
    }
    {
      const before = memoryBytes();
      const seed = new OrderedMapCache<Float32Array>(n, 3_600_000);
      const t0 = performance.now();
      for (const id of ids) seed.set(id, vectors.get(id)!);
      const fill = ((performance.now() - t0) * 1e6) / n;
      const overhead = (memoryBytes() - before) / n;
      const get = 1e9 / ((await opsPerSecond((i) => {
        for (let k = 0; k < BATCH; k++) seed.get(pick(i * BATCH + k));
      })) * BATCH);
      rows.push(['seed: ordered Map', get, fill, overhead]);
    }
    for (const [name, get, fill, overhead] of rows) {
      console.log(`${String(n).padStart(9)}  ${name.padEnd(26)}${get.toFixed(0).padStart(11)}${fill.toFixed(0).padStart(12)}${overhead.toFixed(0).padStart(18)}`);
    }
    const [ours, lru, seed] = rows;
    console.log(`${''.padStart(9)}  ratios: get ours/lru ${(ours![1] / lru![1]).toFixed(2)}, ours/seed ${(ours![1] / seed![1]).toFixed(2)}; memory ours/lru ${(ours![3] / lru![3]).toFixed(2)}`);
    vectors.clear();
  }

}

process.on('unhandledRejection', (err) => console.error('unhandled rejection:', (err as Error)?.stack ?? err));
void main();
