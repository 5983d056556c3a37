// What the status bar item says for an agent state and the latest snapshot. Pure (no `vscode`), so
// every state's text is tested under plain Node.
import type { AgentStatus } from '../../../common/api.js';
import { formatNumber } from '../../../common/formatNumber.js';
import { GRPC_UNKNOWN_REMOTE } from '../agent/agentAddress.js';
import type { AgentState } from '../agent/agentSupervisor.js';

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

/**
 * `remote`: the URL of a remote agent (Connect to Remote Agent…, `inferscope.agent.url`); the text
 * then says "remote" beside the state. `rps`: LiveData's request rate, the one the panel charts.
 */
export function statusBarView(state: AgentState, remote: string | undefined, latest: AgentStatus | undefined, rps: number | undefined): StatusBarView {
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
