// Checks that a URL is an Inferscope agent that takes this token (before a remote agent is switched
// to, and while a launched one starts), and says in words what failed: refused, no answer, unknown
// host, the token, or something that is not an Inferscope agent. No VS Code imports (tested under
// plain Node).

export interface ProbedAgent {
  pid: number;
  /** Every model loaded (strict readiness). */
  ready: boolean;
  /** The start-up load is over (some models may have failed): usable, degraded when not ready. */
  loaded: boolean;
}

export class ProbeError extends Error {}

export async function probeAgent(url: string, token: string, signal: AbortSignal): Promise<ProbedAgent> {
  let res: Response;
  try {
    res = await fetch(`${url}/api/v1/status`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  } catch (err) {
    throw new ProbeError(`${url}: ${networkReason(err)}`);
  }
  if (res.status === 401) throw new ProbeError(`${url} refused the token (401): check INFERSCOPE_TOKEN of that agent`);
  if (res.status === 403) throw new ProbeError(`${url} refused the request (403): the agent may not accept this host name (allowed_hosts)`);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const agent = (body as { agent?: { name?: unknown; pid?: unknown; ready?: unknown; loaded?: unknown } } | undefined)?.agent;
  if (!res.ok || agent?.name !== 'inferscope' || typeof agent.pid !== 'number') {
    throw new ProbeError(`${url} is not an Inferscope agent (GET /api/v1/status answered ${res.status}${res.ok ? ' without an Inferscope status' : ''})`);
  }
  // An agent from before `loaded` existed reports only `ready`.
  return { pid: agent.pid, ready: agent.ready === true, loaded: agent.loaded === true || agent.ready === true };
}

function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  if (e.name === 'AbortError') return 'cancelled';
  // fetch refuses well-known service ports (9, 25, 6000, …) before connecting.
  if ((e.cause as { message?: string } | undefined)?.message === 'bad port') return 'that port is reserved for another service (fetch will not connect to it); use the agent\'s port';
  switch (e.cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the agent running, on that port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'no answer in time';
    default:
      return e.cause?.code ?? e.message ?? 'cannot connect';
  }
}
