// Where the agent is reached from this machine (its HTTP URL and gRPC address, from the listening
// line), and what the Copy Agent URL / Copy gRPC Address commands answer for a state. Pure (no
// `vscode`), so it is tested under plain Node.
import type { ListeningEvent } from '../../../common/api.js';
import type { AgentState } from './agentSupervisor.js';

/** The host to connect to: a wildcard bind is reached on loopback; an IPv6 literal in brackets. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export interface AgentAddresses {
  /** `http://127.0.0.1:8000` */
  url: string;
  /** `127.0.0.1:8001` (a gRPC target, no scheme); absent when the agent serves no gRPC. */
  grpcAddress?: string;
}

export function listeningAddresses(line: ListeningEvent): AgentAddresses {
  const host = connectHost(line.host);
  return { url: `http://${host}:${line.port}`, ...(line.grpc_port !== undefined ? { grpcAddress: `${host}:${line.grpc_port}` } : {}) };
}

export type CopyTarget = 'url' | 'grpc';

export type CopyAnswer =
  /** Copy `text`, then say `message`. */
  | { kind: 'copy'; text: string; message: string }
  /** Nothing to copy: say `message` (information, not an error); `offerStart` when Start/Connect would help. */
  | { kind: 'none'; message: string; offerStart: boolean };

export const GRPC_UNKNOWN_REMOTE = 'gRPC address unknown for a remote agent';

export function copyAnswer(target: CopyTarget, state: AgentState, remote: boolean): CopyAnswer {
  const what = target === 'url' ? 'agent URL' : 'gRPC address';
  if (state.kind === 'starting') return { kind: 'none', message: `Inferscope: ${remote ? 'still connecting to the remote agent' : 'the agent is still starting'}; no ${what} yet.`, offerStart: false };
  if (state.kind !== 'ready') {
    return { kind: 'none', message: remote ? `Inferscope: not connected to the remote agent; no ${what} to copy.` : `Inferscope: the agent is not running; no ${what} to copy.`, offerStart: true };
  }
  if (target === 'url') return { kind: 'copy', text: state.url, message: `Inferscope: copied the agent URL ${state.url}` };
  if (state.grpcAddress) return { kind: 'copy', text: state.grpcAddress, message: `Inferscope: copied the gRPC address ${state.grpcAddress}` };
  return {
    kind: 'none',
    message: remote ? `Inferscope: ${GRPC_UNKNOWN_REMOTE} (the extension knows only its HTTP URL, ${state.url}).` : 'Inferscope: the agent serves no gRPC (its listening line named no gRPC port).',
    offerStart: false,
  };
}

/** The ready state's addresses in one phrase, for the supervisor's log line. */
export function describeAddresses(state: { url: string; grpcAddress?: string }): string {
  return `${state.url}, ${state.grpcAddress ? `gRPC ${state.grpcAddress}` : 'no gRPC'}`;
}
