// Follows a running canary to its decision by reading its resource, reporting each new check.
// Cancelling aborts the canary (traffic back to the baseline at once). An agent that stops or cannot
// be read any more ends the following (not the canary) with CanaryInterruptedError, which carries the
// canary as last seen, so the caller can say what became of it.
import type { Canary, CanaryCheck } from '../../../common/api.js';
import type { AgentClient } from '../client/agentClient.js';
import { AgentHttpError, AgentNotRunningError } from '../errors.js';

export interface FollowOptions {
  onCheck?(check: CanaryCheck, canary: Canary): void;
  signal?: AbortSignal;
  /** The agent stopped or went away: stop following, abort nothing. */
  agentGone?: AbortSignal;
  /** How often to read the canary (default: half its check interval, 250 ms to 2 s). */
  pollMs?: number;
}

export class CanaryInterruptedError extends Error {
  override readonly name = 'CanaryInterruptedError';
  constructor(
    readonly canary: Canary,
    /** `stopped`: the agent stopped (deliberately or by crashing); `lost`: it could not be read. */
    readonly how: 'stopped' | 'lost',
    override readonly cause?: unknown,
  ) {
    super(`canary ${canary.id}: ${how === 'stopped' ? 'the agent stopped' : `lost contact with the agent (${(cause as Error | undefined)?.message ?? 'unknown'})`}`);
  }
}

export async function followCanary(client: AgentClient, started: Canary, opts: FollowOptions = {}): Promise<Canary> {
  const pollMs = opts.pollMs ?? Math.min(2000, Math.max(250, (started.interval_s * 1000) / 2));
  let seen = 0;
  let canary = started;
  const gone = () => opts.agentGone?.aborted === true;
  for (;;) {
    for (; seen < canary.checks.length; seen++) opts.onCheck?.(canary.checks[seen]!, canary);
    if (canary.state !== 'running') return canary;
    if (gone()) throw new CanaryInterruptedError(canary, 'stopped');
    if (opts.signal?.aborted) return client.abortCanary(canary.id);
    await sleep(pollMs, opts.signal, opts.agentGone);
    if (gone()) throw new CanaryInterruptedError(canary, 'stopped');
    if (opts.signal?.aborted) return client.abortCanary(canary.id);
    try {
      canary = await client.canary(canary.id);
    } catch (err) {
      // The agent's own answer (e.g. 404 after a restart) is an error to show; anything else means
      // the agent cannot be reached: stopped (the state change may come a moment later) or lost.
      if (err instanceof AgentHttpError) throw err;
      throw new CanaryInterruptedError(canary, gone() || err instanceof AgentNotRunningError ? 'stopped' : 'lost', err);
    }
  }
}

function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      for (const s of signals) s?.removeEventListener('abort', done);
      resolve();
    }
    for (const s of signals) s?.addEventListener('abort', done, { once: true });
  });
}
