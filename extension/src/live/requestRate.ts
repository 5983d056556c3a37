// Inference requests per second: the one computation the status bar and the Metrics panel (its
// Traffic chart, values and summary) both show. Counted from consecutive status snapshots: the
// breakers count every admitted call (successes + failures) and every rejection, per version, since
// the agent started; the rate is the increase over the last `windowS` seconds of snapshots.
import type { AgentStatus } from '../../../common/api.js';

/** Requests counted so far, for one model or (no model) all of them. */
export function requestsServed(s: AgentStatus, model?: string): number {
  let n = 0;
  for (const m of s.models) {
    if (model !== undefined && m.name !== model) continue;
    for (const v of m.versions) if (v.breaker) n += v.breaker.totals.successes + v.breaker.totals.failures + v.breaker.totals.rejected;
  }
  return n;
}

export interface RequestRates {
  /** All models together: the sum of `models`. */
  total: number;
  /** Per model. */
  models: Record<string, number>;
}

interface Sample {
  t: number;
  pid: number;
  models: Record<string, number>;
}

export class RequestRate {
  private samples: Sample[] = [];

  constructor(private readonly windowS = 5) {}

  /** `t`: when the snapshot arrived, in ms (the agent's uptime is in whole seconds: too coarse). */
  add(s: AgentStatus, t: number = Date.now()): void {
    const models: Record<string, number> = {};
    for (const m of s.models) models[m.name] = requestsServed(s, m.name);
    const sample = { t, pid: s.agent.pid, models };
    // A new process starts counting from zero: forget the old one's samples.
    if (this.samples.length && this.samples[this.samples.length - 1]!.pid !== sample.pid) this.samples = [];
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.t - this.samples[0]!.t > this.windowS * 1000) this.samples.shift();
  }

  /** Per model and in total; undefined until two snapshots of one process arrived. */
  rates(): RequestRates | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    const dt = (b.t - a.t) / 1000;
    if (!(dt > 0)) return undefined;
    const models: Record<string, number> = {};
    let total = 0;
    for (const [name, count] of Object.entries(b.models)) {
      // A model loaded within the window counts from its first sample (zero before it).
      const rate = Math.max(0, count - (a.models[name] ?? 0)) / dt;
      models[name] = rate;
      total += rate;
    }
    return { total, models };
  }

  perSecond(): number | undefined {
    return this.rates()?.total;
  }

  clear(): void {
    this.samples = [];
  }
}
