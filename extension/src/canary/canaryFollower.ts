// Follows a running canary to its decision by reading its resource, reporting each new check.
// Cancelling aborts the canary (traffic back to the baseline at once).
import type { Canary, CanaryCheck } from '../../../common/api.js';
import type { AgentClient } from '../client/agentClient.js';

export interface FollowOptions {
  onCheck?(check: CanaryCheck, canary: Canary): void;
  signal?: AbortSignal;
  /** How often to read the canary (default: half its check interval, 250 ms to 2 s). */
  pollMs?: number;
}

export async function followCanary(client: AgentClient, started: Canary, opts: FollowOptions = {}): Promise<Canary> {
  const pollMs = opts.pollMs ?? Math.min(2000, Math.max(250, (started.interval_s * 1000) / 2));
  let seen = 0;
  let canary = started;
  for (;;) {
    for (; seen < canary.checks.length; seen++) opts.onCheck?.(canary.checks[seen]!, canary);
    if (canary.state !== 'running') return canary;
    if (opts.signal?.aborted) return client.abortCanary(canary.id);
    await sleep(pollMs, opts.signal);
    if (opts.signal?.aborted) return client.abortCanary(canary.id);
    canary = await client.canary(canary.id);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
