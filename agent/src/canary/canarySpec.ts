// The body of POST /api/v1/canaries.
import { z } from 'zod';
import { DEFAULT_THRESHOLDS } from './canaryAnalysis.js';

const metricNames = ['error_rate', 'latency', 'predictions', 'confidence', 'breaker'] as const;
const rate = (what: string) => z.number().gt(0, `expected ${what} in (0, 1]`).max(1, `expected ${what} in (0, 1]`);

export const canarySpecSchema = z
  .object({
    model: z.string().min(1),
    /** Defaults to the model's default version; must be it. */
    baseline: z.string().regex(/^[0-9]+$/, 'expected a version like "1"').optional(),
    candidate: z.string().regex(/^[0-9]+$/, 'expected a version like "2"'),
    steps: z
      .array(z.number().gt(0, 'expected weights in (0, 100]').max(100, 'expected weights in (0, 100]'))
      .min(1, 'expected at least one step')
      .max(20)
      .refine((s) => s.every((w, i) => i === 0 || w > s[i - 1]!), 'expected increasing weights')
      .default([10, 25, 50, 100]),
    interval_s: z.number().min(0.05, 'expected seconds from 0.05 to 86400').max(86_400).default(30),
    checks_per_step: z.int().min(1).max(1000).default(4),
    thresholds: z
      .object({
        alpha: rate('alpha').max(0.5, 'expected alpha in (0, 0.5]'),
        max_error_rate: rate('a rate'),
        min_error_ratio: z.number().min(1),
        max_p99_ms: z.number().positive(),
        max_p99_ratio: z.number().min(1),
        latency_effect_margin: z.number().min(0).max(0.5),
        confidence_effect_margin: z.number().min(0).max(0.5),
        min_cramers_v: z.number().min(0).max(1),
        min_samples: z.int().min(5, 'expected at least 5 samples'),
        // Bounded: a canary that tolerates endless inconclusive checks never ends.
        max_inconclusive_checks: z.int().min(0).max(1000, 'expected at most 1000'),
        // At least one: with none, "every critical metric passed" holds with no evidence at all.
        critical: z.array(z.enum(metricNames)).min(1, 'expected at least one critical metric'),
      })
      .strict()
      .partial()
      .default({}),
    /**
     * `anytime` (default): tests valid at every look (canaryAnalysis.ts); `bonferroni`: the earlier
     * rule, alpha split over the planned looks, kept for comparison.
     */
    method: z.enum(['anytime', 'bonferroni']).default('anytime'),
    /**
     * No planned number of checks: each step is held until every critical metric could have seen
     * the smallest regression that counts (and saw none); `checks_per_step` then applies only to a
     * 100 % step, where the baseline serves nothing to compare with.
     * Anytime only: Bonferroni needs the number of looks in advance.
     */
    open_ended: z.boolean().default(false),
    /** Where samples come from: this agent's own requests, or Prometheus (all replicas). */
    source: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('in_process') }).strict(),
        // Must also name one of the config's `prometheus_urls` (checked when the canary starts).
        z
          .object({
            kind: z.literal('prometheus'),
            url: z.string().max(2048).regex(/^https?:\/\//, 'expected an http(s):// URL of the Prometheus server'),
            /**
             * An instant shared by the replicas of a fleet (RFC 3339; the controller bounds how far it
             * may be from the agent's clock): the checks fall at anchor + k·interval_s and read the
             * windows that end a little before it, so every replica judges the same samples.
             */
            anchor: z.string().datetime({ offset: true, message: 'expected an RFC 3339 time, e.g. 2026-12-03T15:00:00.000Z' }).optional(),
          })
          .strict(),
      ])
      .default({ kind: 'in_process' }),
  })
  .strict()
  .refine((c) => c.open_ended || c.steps.length * c.checks_per_step <= 1000, { message: 'steps × checks_per_step must be at most 1000 checks', path: ['checks_per_step'] })
  .refine((c) => !(c.open_ended && c.method === 'bonferroni'), { message: 'an open-ended canary needs "method": "anytime" (bonferroni splits alpha over a planned number of checks)', path: ['open_ended'] });

export type CanarySpec = z.infer<typeof canarySpecSchema>;

export function thresholdsOf(spec: CanarySpec) {
  return { ...DEFAULT_THRESHOLDS, ...spec.thresholds };
}
