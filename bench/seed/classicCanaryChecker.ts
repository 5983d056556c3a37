// The seed algorithm, ported for comparison: the classic canary health checker. Every interval it
// compares canary and stable metrics; it waits for a minimum of traffic, rolls back when the
// canary breaks an absolute threshold (error rate > 5%, p99 > 1000 ms) or is clearly worse than
// stable (error rate > 2× stable, p99 > 1.5× stable), and otherwise proceeds after N checks.
import { quantile } from '../../agent/src/canary/statistics.js';

export interface ClassicWindow {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

export function classicCheck(stable: ClassicWindow, canary: ClassicWindow, minRequests = 50): 'wait' | 'ok' | 'rollback' {
  if (canary.requests < minRequests || stable.requests < minRequests) return 'wait';
  const cErr = canary.errors / canary.requests;
  const sErr = stable.errors / stable.requests;
  const cP99 = quantile(canary.latenciesMs, 0.99);
  const sP99 = quantile(stable.latenciesMs, 0.99);
  if (cErr > 0.05 || cP99 > 1000) return 'rollback';
  if (cErr > 2 * sErr || cP99 > 1.5 * sP99) return 'rollback';
  return 'ok';
}
