// The fleet as its Prometheus sees it: one replica per scrape target of the Inferscope job(s), its
// address (what Prometheus scrapes, so Evaluate Canary can reach each replica), whether the last
// scrape worked, the agent build it runs (inferscope_build_info) and its breakers
// (inferscope_breaker_state, per model and version). The job is recognised by what it exports, not
// by its name: every job with an inferscope_build_info series, plus jobs named "inferscope…" (so a
// fleet whose replicas are all down is still listed). No VS Code imports.
import { type PrometheusClient, type Sample, type ScrapeTarget } from './prometheusQuery.js';

export type BreakerStateName = 'closed' | 'half_open' | 'open';

export interface ReplicaBreaker {
  model: string;
  version: string;
  state: BreakerStateName;
}

export interface FleetReplica {
  /** The `replica` label when the scrape config sets one, else the instance. */
  name: string;
  instance: string;
  job: string;
  /** The replica's own address (scheme, host and port of its scrape URL). */
  url: string;
  /** down: the last scrape failed (Prometheus's `up == 0`); unknown: not scraped yet. */
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  /** The agent's version (inferscope_build_info), while it is up. */
  build?: string;
  /** Sorted by model, then version; empty while the replica is down (its series are stale). */
  breakers: ReplicaBreaker[];
}

export interface FleetView {
  prometheusUrl: string;
  replicas: FleetReplica[];
  /** The longest scrape interval of the replicas' targets, in seconds (rates need a few of them). */
  scrapeIntervalS: number;
}

/** inferscope_breaker_state's values (the agent's BREAKER_STATE_VALUE). */
const BREAKER_STATES: Record<number, BreakerStateName> = { 0: 'closed', 1: 'half_open', 2: 'open' };

/** Pure: the replicas from the targets and the two series, in the order of their names. */
export function fleetView(prometheusUrl: string, targets: ScrapeTarget[], buildInfo: Sample[], breakers: Sample[]): FleetView {
  const jobs = new Set(buildInfo.map((s) => s.metric.job).filter((j): j is string => !!j));
  for (const t of targets) if (/inferscope/i.test(t.job)) jobs.add(t.job);
  const key = (job: string | undefined, instance: string | undefined) => `${job}\u0000${instance}`;
  const builds = new Map(buildInfo.map((s) => [key(s.metric.job, s.metric.instance), s.metric.version]));
  const byReplica = new Map<string, ReplicaBreaker[]>();
  for (const s of breakers) {
    const state = BREAKER_STATES[s.value];
    if (!state || !s.metric.model || !s.metric.version) continue;
    const k = key(s.metric.job, s.metric.instance);
    byReplica.set(k, [...(byReplica.get(k) ?? []), { model: s.metric.model, version: s.metric.version, state }]);
  }
  const replicas = targets
    .filter((t) => jobs.has(t.job))
    .map((t): FleetReplica => {
      const k = key(t.job, t.instance);
      const build = builds.get(k);
      return {
        name: t.labels.replica ?? t.instance,
        instance: t.instance,
        job: t.job,
        url: origin(t.scrapeUrl),
        health: t.health,
        lastError: t.lastError,
        ...(build ? { build } : {}),
        breakers: t.health === 'down' ? [] : (byReplica.get(k) ?? []).sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version, undefined, { numeric: true })),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }) || a.instance.localeCompare(b.instance));
  const intervals = targets.filter((t) => jobs.has(t.job)).map((t) => t.scrapeIntervalS ?? NaN).filter((s) => Number.isFinite(s) && s > 0);
  return { prometheusUrl, replicas, scrapeIntervalS: intervals.length ? Math.max(...intervals) : 15 };
}

/** Reads the fleet from Prometheus: its targets, build info and breaker states, at once. */
export async function readFleet(prom: PrometheusClient, signal?: AbortSignal): Promise<FleetView> {
  const [targets, buildInfo, breakers] = await Promise.all([prom.targets(signal), prom.query('inferscope_build_info', undefined, signal), prom.query('inferscope_breaker_state', undefined, signal)]);
  return fleetView(prom.url, targets, buildInfo, breakers);
}

/** "http://10.0.0.7:8000/metrics" → "http://10.0.0.7:8000". */
function origin(scrapeUrl: string): string {
  try {
    return new URL(scrapeUrl).origin;
  } catch {
    return scrapeUrl;
  }
}

/** "2 replicas, 1 down" (the tree's fleet row). */
export function fleetSummary(f: FleetView): string {
  const down = f.replicas.filter((r) => r.health === 'down').length;
  const open = f.replicas.filter((r) => r.breakers.some((b) => b.state !== 'closed')).length;
  return [`${f.replicas.length} replica${f.replicas.length === 1 ? '' : 's'}`, ...(down ? [`${down} down`] : []), ...(open ? [`${open} with a breaker not closed`] : [])].join(', ');
}
