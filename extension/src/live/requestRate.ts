// Inference requests per second from consecutive status snapshots: the breakers count every
// admitted call (successes + failures) and every rejection, per version, since the agent started.
import type { AgentStatus } from '../../../common/api.js';

export function requestsServed(s: AgentStatus): number {
  let n = 0;
  for (const m of s.models) for (const v of m.versions) if (v.breaker) n += v.breaker.totals.successes + v.breaker.totals.failures + v.breaker.totals.rejected;
  return n;
}

export class RequestRate {
  private samples: { uptime: number; count: number; pid: number }[] = [];

  constructor(private readonly windowS = 5) {}

  add(s: AgentStatus): void {
    const sample = { uptime: s.agent.uptime_s, count: requestsServed(s), pid: s.agent.pid };
    // A new process starts counting from zero: forget the old one's samples.
    if (this.samples.length && this.samples[this.samples.length - 1]!.pid !== sample.pid) this.samples = [];
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.uptime - this.samples[0]!.uptime > this.windowS) this.samples.shift();
  }

  perSecond(): number | undefined {
    if (this.samples.length < 2) return undefined;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    const dt = b.uptime - a.uptime;
    return dt > 0 ? Math.max(0, b.count - a.count) / dt : undefined;
  }

  clear(): void {
    this.samples = [];
  }
}
