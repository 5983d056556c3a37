// The `features` block of a model's config.json: where entity feature vectors come from, and how
// the cache in front of the source behaves.
import { z } from 'zod';

const cacheFields = {
  ttl_ms: z.int().min(0, 'expected milliseconds >= 0').default(300_000),
  negative_ttl_ms: z.int().min(0, 'expected milliseconds >= 0').default(5_000),
  stale_ms: z.int().min(0, 'expected milliseconds >= 0').default(0),
  max_entries: z.int().min(1, 'expected an integer >= 1').default(10_000),
  max_bytes: z.int().min(1024, 'expected at least 1024 bytes').default(64 * 1024 * 1024),
};

export const featureSettingsSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('file'), path: z.string().min(1, 'expected a path inside the model folder'), ...cacheFields }).strict(),
  z
    .object({
      source: z.literal('redis'),
      url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
      key_prefix: z.string().optional(),
      timeout_ms: z.int().min(1).max(60_000).default(500),
      ...cacheFields,
    })
    .strict(),
]);

export type FeatureSettings = z.infer<typeof featureSettingsSchema>;
