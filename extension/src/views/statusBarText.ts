// What the status bar item says for an agent state and the latest snapshot. Pure (no `vscode`), so
// every state's text is tested under plain Node.
import type { AgentStatus } from '../../../common/api.js';
import { formatNumber } from '../../../common/formatNumber.js';
import { GRPC_UNKNOWN_REMOTE } from '../agent/agentAddress.js';
import type { AgentState } from '../agent/agentSupervisor.js';
import type { FleetView } from '../fleet/fleetTargets.js';

export type Severity = 'normal' | 'warning' | 'error';

export interface StatusBarView {
  text: string;
  severity: Severity;
  /** One line for the tooltip's first paragraph. */
  summary: string;
}

export function openBreakers(s: AgentStatus | undefined): string[] {
  if (!s) return [];
  const open: string[] = [];
  for (const m of s.models) for (const v of m.versions) if (v.breaker?.state === 'open') open.push(`${m.name}/${v.version}`);
  return open;
}

/** Models and versions that failed to load, each with the first line of its reason. */
export function failedModels(s: AgentStatus | undefined): string[] {
  if (!s) return [];
  const failed: string[] = [];
  const reason = (r: string | undefined) => (r ? ` (${firstLine(r).slice(0, 160)})` : '');
  for (const m of s.models) {
    if (m.error && !m.versions.some((v) => v.state === 'ready')) failed.push(`${m.name}${reason(m.error)}`);
    else for (const v of m.versions) if (v.state === 'failed') failed.push(`${m.name}/${v.version}${reason(v.reason)}`);
  }
  return failed;
}

/** A fleet behind the agent URL (inferscope.fleet.prometheusUrl), as its watcher last read it. */
export interface FleetStatus {
  /** Without credentials. */
  prometheusUrl: string;
  view: FleetView | undefined;
  /** Why the last read failed. */
  error: string | undefined;
  /** Over every replica, from Prometheus. */
  requestsPerSecond: number | undefined;
}

/**
 * `remote`: the URL of a remote agent (Connect to Remote Agent…, `inferscope.agent.url`); the text
 * then says "remote" beside the state. `rps`: LiveData's request rate, the one the panel charts.
 */
export function statusBarView(state: AgentState, remote: string | undefined, latest: AgentStatus | undefined, rps: number | undefined, fleet?: FleetStatus): StatusBarView {
  // Connected: a fleet's replicas and rate come from its Prometheus, not from the one replica that answered.
  if (fleet && state.kind === 'ready') return fleetStatusBarView(state, remote, latest, fleet);
  const where = remote ? ` (${remote})` : '';
  const r = remote ? ' (remote)' : '';
  switch (state.kind) {
    case 'stopped':
      return { text: `$(circle-slash) Inferscope: stopped${r}`, severity: 'normal', summary: remote ? `Not connected to ${remote}.` : 'The agent is not running.' };
    case 'starting':
      return {
        text: `$(loading~spin) Inferscope: ${remote ? 'connecting' : 'starting'}…`,
        severity: 'normal',
        summary: remote ? `Connecting to ${remote}…` : state.attempt > 1 ? `Restarting the agent (attempt ${state.attempt})…` : 'Starting the agent…',
      };
    case 'crashed':
      return { text: `$(error) Inferscope: crashed${r}, restarting`, severity: 'error', summary: `${firstLine(state.message)} Restarting in ${(state.restartInMs / 1000).toFixed(1)} s.` };
    case 'failed':
      return { text: `$(error) Inferscope: down${r}`, severity: 'error', summary: firstLine(state.message) };
    case 'ready': {
      const open = openBreakers(latest);
      const rate = rps === undefined ? '' : ` · ${formatRate(rps)} req/s`;
      const failed = failedModels(latest);
      if (open.length > 0 || failed.length > 0) {
        const why = [...(failed.length ? [`Not serving: ${failed.join('; ')}.`] : []), ...(open.length ? [`Circuit breaker open: ${open.join(', ')}.`] : [])];
        return { text: `$(warning) Inferscope: degraded${r}${rate}`, severity: 'warning', summary: `${why.join(' ')}${where}` };
      }
      return { text: `$(pulse) Inferscope: ready${r}${rate}`, severity: 'normal', summary: servingSummary(state, remote !== undefined) };
    }
  }
}

/** Ready with a fleet: "fleet: 2 of 2 replicas up · 123 req/s"; a replica down or a breaker open anywhere: warning, named. */
export function fleetStatusBarView(state: { url: string }, remote: string | undefined, latest: AgentStatus | undefined, fleet: FleetStatus): StatusBarView {
  const through = `Through ${remote ?? state.url}; replicas from the Prometheus at ${fleet.prometheusUrl}.`;
  const { view } = fleet;
  if (!view) {
    if (fleet.error) return { text: '$(warning) Inferscope: fleet: cannot read Prometheus', severity: 'warning', summary: `${firstLine(fleet.error)} ${through}` };
    return { text: '$(loading~spin) Inferscope: fleet: reading Prometheus…', severity: 'normal', summary: through };
  }
  const n = view.replicas.length;
  if (n === 0) return { text: '$(warning) Inferscope: fleet: no replicas', severity: 'warning', summary: `Prometheus scrapes no Inferscope replica. ${through}` };
  const up = view.replicas.filter((r) => r.health === 'up').length;
  const down = view.replicas.filter((r) => r.health === 'down');
  const open = view.replicas.flatMap((r) => r.breakers.filter((b) => b.state === 'open').map((b) => `${b.model}/${b.version} on ${r.name}`));
  const failed = failedModels(latest);
  const why = [
    ...down.map((r) => `Replica ${r.name} (${r.instance}) is down${r.lastError ? `: ${firstLine(r.lastError).slice(0, 160)}` : ''}.`),
    ...(open.length ? [`Circuit breaker open: ${open.join(', ')}.`] : []),
    ...(failed.length ? [`Not serving: ${failed.join('; ')}.`] : []),
  ];
  const warn = why.length > 0;
  const rate = fleet.requestsPerSecond === undefined ? '' : ` · ${formatRate(fleet.requestsPerSecond)} req/s`;
  return {
    text: `${warn ? '$(warning)' : '$(server-environment)'} Inferscope: fleet: ${up} of ${n} replica${n === 1 ? '' : 's'} up${rate}`,
    severity: warn ? 'warning' : 'normal',
    summary: [...why, through].join(' '),
  };
}

/** The ready tooltip's first line: the HTTP URL with the gRPC address beside it. */
export function servingSummary(state: { url: string; grpcAddress?: string; pid: number }, remote: boolean): string {
  const grpc = state.grpcAddress ? ` and gRPC at ${state.grpcAddress}` : remote ? '' : ', no gRPC';
  return `Serving at ${state.url}${grpc} (${remote ? `remote${state.grpcAddress ? '' : `; ${GRPC_UNKNOWN_REMOTE}`}` : `pid ${state.pid}`}).`;
}

/** As the Metrics panel's Traffic section writes a rate (one formatter for both). */
export function formatRate(rps: number): string {
  return formatNumber(rps);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
