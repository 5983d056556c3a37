// Fault injection per model version, for demos, tests and canary rehearsals: a share of requests
// fail as model failures, and/or every batch execution is delayed (holding its instance, so
// queues build up as they would behind a slow model).
import { z } from 'zod';

export const faultSchema = z
  .object({
    error_rate: z.number().min(0, 'expected a rate from 0 to 1').max(1, 'expected a rate from 0 to 1').default(0),
    latency_ms: z.number().min(0, 'expected milliseconds from 0 to 60000').max(60_000, 'expected milliseconds from 0 to 60000').default(0),
  })
  .strict();

export type Fault = z.infer<typeof faultSchema>;

export class FaultInjector {
  private readonly faults = new Map<string, Fault>();

  constructor(private readonly random: () => number = Math.random) {}

  set(model: string, version: string, fault: Fault): void {
    this.faults.set(`${model}/${version}`, fault);
  }

  clear(model: string, version: string): boolean {
    return this.faults.delete(`${model}/${version}`);
  }

  get(model: string, version: string): Fault | undefined {
    return this.faults.get(`${model}/${version}`);
  }

  latencyMs(model: string, version: string): number {
    return this.faults.get(`${model}/${version}`)?.latency_ms ?? 0;
  }

  /** Whether this request should fail (drawn per request). */
  shouldFail(model: string, version: string): boolean {
    const rate = this.faults.get(`${model}/${version}`)?.error_rate ?? 0;
    return rate > 0 && this.random() < rate;
  }
}
