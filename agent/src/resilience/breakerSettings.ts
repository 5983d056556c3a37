// The `breaker` block of a model's config.json. Defaults give the classic breaker: open after 5
// consecutive failures, one trial request after 30 s.
import { z } from 'zod';

export const breakerSettingsSchema = z
  .object({
    /** "consecutive": N failures in a row; "failure_rate": share of failures over the last window_size calls. */
    trip: z.enum(['consecutive', 'failure_rate'], 'expected "consecutive" or "failure_rate"').default('consecutive'),
    consecutive_failures: z.int().min(1, 'expected an integer >= 1').default(5),
    failure_rate_threshold: z.number().gt(0, 'expected a rate in (0, 1]').max(1, 'expected a rate in (0, 1]').default(0.5),
    window_size: z.int().min(1, 'expected an integer >= 1').max(10_000).default(20),
    minimum_calls: z.int().min(1, 'expected an integer >= 1').default(10),
    /** Calls slower than this count as slow; 0 turns slow-call detection off. */
    slow_call_ms: z.number().min(0).default(0),
    slow_call_rate_threshold: z.number().gt(0, 'expected a rate in (0, 1]').max(1, 'expected a rate in (0, 1]').default(1),
    open_duration_ms: z.int().min(1, 'expected milliseconds from 1 to 86400000').max(86_400_000).default(30_000),
    /** Each trip in a row multiplies the open duration by this, up to max_open_duration_ms. */
    open_backoff_multiplier: z.number().min(1, 'expected a multiplier >= 1').default(1),
    max_open_duration_ms: z.int().min(1).max(86_400_000).default(300_000),
    half_open_permits: z.int().min(1, 'expected an integer >= 1').max(1000).default(1),
    /** Half-open with no trial outcome for this long goes back to open instead of sticking. */
    half_open_timeout_ms: z.int().min(1).max(86_400_000).default(30_000),
  })
  .strict()
  .refine((s) => s.minimum_calls <= s.window_size, {
    message: 'minimum_calls must not exceed window_size (the window never holds more calls)',
    path: ['minimum_calls'],
  });

export type BreakerSettings = z.infer<typeof breakerSettingsSchema>;

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = breakerSettingsSchema.parse({});
