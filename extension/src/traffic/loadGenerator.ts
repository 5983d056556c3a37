// Sends N requests at a fixed concurrency and summarises them: throughput, latency percentiles and
// errors by message. Knows nothing of HTTP or VS Code: `send` does one request.
import { nearestRank } from '../../../common/nearestRank.js';

export interface LoadOptions {
  requests: number;
  concurrency: number;
  send(index: number, signal: AbortSignal): Promise<void>;
  signal?: AbortSignal;
  /** Called after each completed request (throttle in the caller if needed). */
  onProgress?(done: number, total: number): void;
  now?: () => number;
}

export interface LoadSummary {
  requested: number;
  completed: number;
  succeeded: number;
  failed: number;
  cancelled: boolean;
  /** Why the load stopped early, when not by the user (e.g. "the agent stopped"): the abort's reason. */
  stoppedBecause?: string;
  durationS: number;
  /** Successful requests per second (failures answered at once would inflate a rate of all). */
  throughput: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number } | null;
  /** Error message → count, most frequent first. */
  errors: [string, number][];
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const now = opts.now ?? (() => performance.now());
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) abort.abort();
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  let completed = 0;
  const started = now();
  const worker = async () => {
    while (!abort.signal.aborted && next < opts.requests) {
      const i = next++;
      const t0 = now();
      try {
        await opts.send(i, abort.signal);
        latencies.push(now() - t0);
      } catch (err) {
        if (abort.signal.aborted) break;
        const message = (err as Error).message;
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
      completed++;
      opts.onProgress?.(completed, opts.requests);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.requests)) }, worker));
  opts.signal?.removeEventListener('abort', onAbort);
  const durationS = (now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const failed = [...errors.values()].reduce((a, b) => a + b, 0);
  return {
    requested: opts.requests,
    completed,
    succeeded: latencies.length,
    failed,
    cancelled: abort.signal.aborted,
    ...(typeof opts.signal?.reason === 'string' ? { stoppedBecause: opts.signal.reason } : {}),
    durationS,
    throughput: durationS > 0 ? latencies.length / durationS : 0,
    latencyMs: latencies.length ? { p50: nearestRank(latencies, 0.5), p90: nearestRank(latencies, 0.9), p99: nearestRank(latencies, 0.99), max: latencies[latencies.length - 1]! } : null,
    errors: [...errors.entries()].sort((a, b) => b[1] - a[1]),
  };
}

export function formatSummary(model: string, s: LoadSummary): string {
  const lat = s.latencyMs ? `p50 ${s.latencyMs.p50.toFixed(1)} ms, p99 ${s.latencyMs.p99.toFixed(1)} ms` : 'no successful requests';
  // Messages are sentences; inside parentheses their full stop would double the summary's.
  const first = s.errors[0]?.[0].replace(/\.+$/, '');
  const errs = s.failed ? `, ${s.failed} failed (${first}${s.errors.length > 1 ? ', …' : ''})` : ', no errors';
  const how = s.stoppedBecause ? `Stopped (${s.stoppedBecause}) after` : s.cancelled ? 'Cancelled after' : 'Sent';
  return `${how} ${s.completed}/${s.requested} requests to ${model}: ${s.throughput.toFixed(0)} req/s, ${lat}${errs}.`;
}
