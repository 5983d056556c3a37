// One canary on every replica of a fleet, followed together. Each replica runs its own canary (its
// own traffic split), so all of them must be started, directly at each replica's address (a POST
// through the load balancer would reach one); with the Prometheus source every replica judges the
// fleet's series and so reaches the same decision. A replica that refuses or cannot be reached is
// reported and the others go on. No VS Code imports: the command (fleetEvaluate.ts) shows it.
import type { Canary, CanaryRequest } from '../../../common/api.js';
import type { Endpoint } from '../agent/agentSupervisor.js';
import { CanaryInterruptedError, followCanary } from '../canary/canaryFollower.js';
import { AgentClient } from '../client/agentClient.js';
import type { FleetReplica } from './fleetTargets.js';

/** CanaryRequest plus the source the agent accepts (common/api.ts's Canary.source). */
export type FleetCanaryRequest = CanaryRequest & { source?: Canary['source'] };

export interface ReplicaCanary {
  replica: Pick<FleetReplica, 'name' | 'url'>;
  client: AgentClient;
  canary: Canary;
}

export interface ReplicaFailure {
  replica: Pick<FleetReplica, 'name' | 'url'>;
  error: string;
}

export interface FleetCanaryStart {
  started: ReplicaCanary[];
  /** Replicas that did not start it: down in Prometheus, unreachable, or refused (their answer). */
  failed: ReplicaFailure[];
}

export type ClientFactory = (endpoint: Endpoint) => AgentClient;
const defaultClient: ClientFactory = (ep) => new AgentClient(() => ep);

/** Starts the canary on every replica at once; a replica Prometheus sees down is not tried. */
export async function startOnFleet(replicas: readonly FleetReplica[], token: string, request: FleetCanaryRequest, makeClient: ClientFactory = defaultClient): Promise<FleetCanaryStart> {
  const out: FleetCanaryStart = { started: [], failed: [] };
  await Promise.all(
    replicas.map(async (r) => {
      const replica = { name: r.name, url: r.url };
      if (r.health === 'down') {
        out.failed.push({ replica, error: `down (${r.lastError || 'its last scrape failed'})` });
        return;
      }
      const client = makeClient({ url: r.url, token });
      try {
        out.started.push({ replica, client, canary: await client.startCanary(request) });
      } catch (err) {
        out.failed.push({ replica, error: (err as Error).message });
      }
    }),
  );
  const byName = (a: { replica: { name: string } }, b: { replica: { name: string } }) => a.replica.name.localeCompare(b.replica.name, undefined, { numeric: true });
  out.started.sort(byName);
  out.failed.sort(byName);
  return out;
}

export interface ReplicaOutcome {
  replica: Pick<FleetReplica, 'name' | 'url'>;
  /** The canary as last seen (its final state when `lost` is absent). */
  canary: Canary;
  /** Following it ended before a decision: the replica stopped answering. */
  lost?: string;
}

export interface FleetFollowOptions {
  /** Called whenever a replica's canary reports a new check or ends; `text` is the progress line. */
  onProgress?(text: string, outcomes: readonly ReplicaOutcome[]): void;
  /** Cancelling aborts the canary on every replica. */
  signal?: AbortSignal;
  pollMs?: number;
}

/** Follows every replica's canary to its decision, together; resolves when all have ended (or were lost). */
export async function followFleet(started: readonly ReplicaCanary[], opts: FleetFollowOptions = {}): Promise<ReplicaOutcome[]> {
  const outcomes: ReplicaOutcome[] = started.map((s) => ({ replica: s.replica, canary: s.canary }));
  const report = () => opts.onProgress?.(fleetProgressText(outcomes), outcomes);
  await Promise.all(
    started.map(async (s, i) => {
      try {
        outcomes[i]!.canary = await followCanary(s.client, s.canary, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
          onCheck: (_check, canary) => {
            outcomes[i]!.canary = canary;
            report();
          },
        });
      } catch (err) {
        if (err instanceof CanaryInterruptedError) outcomes[i]!.canary = err.canary;
        outcomes[i]!.lost = (err as Error).message;
      }
      report();
    }),
  );
  return outcomes;
}

const STATE_WORDS: Record<Canary['state'], string> = { running: 'running', promoted: 'promoted', rolled_back: 'rolled back', aborted: 'aborted' };

/** "3 replicas: 2 checks, at 25%" while running; "3 replicas: 4 checks, promoted on 3/3" at the end. */
export function fleetProgressText(outcomes: readonly Pick<ReplicaOutcome, 'canary' | 'lost'>[]): string {
  const n = outcomes.length;
  const checks = Math.min(...outcomes.map((o) => o.canary.checks.length));
  const head = `${n} replica${n === 1 ? '' : 's'}: ${checks} check${checks === 1 ? '' : 's'}`;
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const word = o.lost ? 'lost' : STATE_WORDS[o.canary.state];
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const running = outcomes.filter((o) => !o.lost && o.canary.state === 'running');
  const weights = [...new Set(running.map((o) => o.canary.weight))].sort((a, b) => a - b);
  const parts = [...counts.entries()].filter(([w]) => w !== 'running').map(([w, k]) => `${w} on ${k}/${n}`);
  if (running.length) parts.unshift(`running on ${running.length}/${n} at ${weights.map((w) => `${w}%`).join('/')}`);
  return `${head}, ${parts.join(', ')}`;
}

/** The one notification at the end: the decisions, whether they agree, and the replicas that did not take part. */
export function fleetOutcomeText(request: Pick<CanaryRequest, 'model' | 'candidate'>, outcomes: readonly ReplicaOutcome[], failed: readonly ReplicaFailure[]): string {
  const first = outcomes[0]?.canary;
  const head = `Canary ${request.model} ${first?.baseline ?? '?'} → ${request.candidate} on ${outcomes.length + failed.length} replica${outcomes.length + failed.length === 1 ? '' : 's'}`;
  const decided = outcomes.filter((o) => !o.lost);
  const states = [...new Set(decided.map((o) => o.canary.state))];
  const body =
    outcomes.length === 0
      ? 'started on none'
      : states.length === 1 && decided.length === outcomes.length
        ? `${STATE_WORDS[states[0]!]} on ${outcomes.length}/${outcomes.length + failed.length}${first?.reason ? ` (${first.reason.replace(/\.$/, '')})` : ''}`
        : `the replicas disagree: ${outcomes.map((o) => `${o.replica.name} ${o.lost ? 'lost' : STATE_WORDS[o.canary.state]}`).join(', ')}`;
  const notStarted = failed.map((f) => `${f.replica.name} (${f.replica.url}) did not start it: ${f.error}`);
  const lost = outcomes.filter((o) => o.lost).map((o) => `${o.replica.name}: ${o.lost}`);
  return [`${head}: ${body}.`, ...notStarted, ...lost].join(' ');
}
