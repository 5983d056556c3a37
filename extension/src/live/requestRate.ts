// Inference requests per second from consecutive status snapshots: the breakers count every
// admitted call (successes + failures) and every rejection, per version, since the agent started.
import type { AgentStatus } from '../../../common/api.js';

export function requestsServed(s: AgentStatus): number {
  let n = 0;
  for (const m of s.models) for (const v of m.versions) if (v.breaker) n += v.breaker.totals.successes + v.breaker.totals.failures + v.breaker.totals.rejected;
  return n;
}

export class RequestRate {
  private samples: { t: number; count: number; pid: number }[] = [];

  constructor(private readonly windowS = 5) {}

  /** `t`: when the snapshot arrived, in ms (the agent's uptime is in whole seconds: too coarse). */
  add(s: AgentStatus, t: number = Date.now()): void {
    const sample = { t, count: requestsServed(s), pid: s.agent.pid };
    // A new process starts counting from zero: forget the old one's samples.
    if (this.samples.length && this.samples[this.samples.length - 1]!.pid !== sample.pid) this.samples = [];
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.t - this.samples[0]!.t > this.windowS * 1000) this.samples.shift();
  }

  perSecond(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    const dt = (b.t - a.t) / 1000;
    return dt > 0 ? Math.max(0, b.count - a.count) / dt : undefined;
  }

  clear(): void {
    this.samples = [];
  }
}
