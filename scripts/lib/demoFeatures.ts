// Reads the demo feature store (models/digits/features) and writes it into Redis in the layout
// RedisFeatureSource reads: key <prefix><entity id>, value little-endian float32 bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { encodeVector } from '../../agent/src/features/redisFeatureSource.js';

export function readDemoFeatures(featuresDir: string): Map<string, Float32Array> {
  const index = JSON.parse(readFileSync(join(featuresDir, 'index.json'), 'utf8')) as { scale: number; dim: number; ids: string[]; data: string };
  const bytes = readFileSync(join(featuresDir, index.data));
  const out = new Map<string, Float32Array>();
  index.ids.forEach((id, row) => {
    const v = new Float32Array(index.dim);
    for (let j = 0; j < index.dim; j++) v[j] = bytes[row * index.dim + j]! * index.scale;
    out.set(id, v);
  });
  return out;
}

export async function loadIntoRedis(url: string, prefix: string, features: Map<string, Float32Array>, ttlS?: number): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const ids = [...features.keys()];
    for (let start = 0; start < ids.length; start += 500) {
      const pipeline = client.pipeline();
      for (const id of ids.slice(start, start + 500)) {
        const value = encodeVector(features.get(id)!);
        if (ttlS) pipeline.set(prefix + id, value, 'EX', ttlS);
        else pipeline.set(prefix + id, value);
      }
      await pipeline.exec();
    }
    return ids.length;
  } finally {
    client.disconnect();
  }
}
