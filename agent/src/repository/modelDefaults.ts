// Defaults the agent's own settings give to every model's config.json (the extension's batching
// and cache settings end up here). A model's config.json always wins, field by field.
import { z } from 'zod';

export const modelDefaultsSchema = z
  .object({
    /** Merged under `dynamic_batching` of models that batch (max_batch_size > 0). */
    dynamic_batching: z
      .object({
        max_queue_delay_ms: z.number().min(0).max(60_000),
        max_queue_size: z.int().min(0),
        default_timeout_ms: z.int().min(0).max(3_600_000),
      })
      .strict()
      .partial()
      .optional(),
    /** Merged under `features` of models that have a feature source. */
    feature_cache: z
      .object({ ttl_ms: z.int().min(0), max_entries: z.int().min(1), max_bytes: z.int().min(1024) })
      .strict()
      .partial()
      .optional(),
  })
  .strict()
  .default({});

export type ModelDefaults = z.infer<typeof modelDefaultsSchema>;

/** The raw (unvalidated) config.json object with the defaults merged beneath its own fields. */
export function applyModelDefaults(raw: unknown, defaults: ModelDefaults): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const config = { ...(raw as Record<string, unknown>) };
  const batches = typeof config.max_batch_size === 'number' && config.max_batch_size > 0;
  if (defaults.dynamic_batching && batches) {
    config.dynamic_batching = { ...defaults.dynamic_batching, ...asObject(config.dynamic_batching) };
  }
  if (defaults.feature_cache && asObject(config.features)) {
    config.features = { ...defaults.feature_cache, ...asObject(config.features) };
  }
  return config;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
