// An agent that is already running elsewhere (another machine, replicas behind a load balancer):
// "start" connects (checks the status route with the token), "stop" disconnects. Same state shape
// as the supervisor, so views and commands do not care which one they talk to.
import { AgentStartError } from '../errors.js';
import { ProbeError, probeAgent } from './remoteProbe.js';
import type { AgentState, Endpoint } from './agentSupervisor.js';
import { Emitter } from '../emitter.js';

export class RemoteAgent {
  private _state: AgentState = { kind: 'stopped' };
  private readonly changed = new Emitter<AgentState>();
  private endpointValue: Endpoint | undefined;

  constructor(
    readonly url: string,
    private readonly token: () => Promise<string | undefined>,
    private readonly timeoutMs = 5000,
  ) {}

  get state(): AgentState {
    return this._state;
  }

  get pid(): number | undefined {
    return this._state.kind === 'ready' ? this._state.pid : undefined;
  }

  endpoint(): Endpoint | undefined {
    return this._state.kind === 'ready' ? this.endpointValue : undefined;
  }

  readonly onDidChangeState = this.changed.event;

  /** Bumped by every start/stop: a connect that finishes late does not override a newer choice. */
  private generation = 0;

  async start(signal?: AbortSignal): Promise<void> {
    const generation = ++this.generation;
    this.setState({ kind: 'starting', attempt: 1 });
    const token = (await this.token()) ?? '';
    const url = this.url.replace(/\/+$/, '');
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      // The status route proves the token and that this is an Inferscope agent; an agent whose
      // start-up load is over serves, even if one of its models failed (degraded).
      const probed = await probeAgent(url, token, both);
      if (!probed.loaded) throw new Error(`${url} is still loading its models; retry shortly`);
      const body = { agent: { pid: probed.pid } };
      if (generation !== this.generation) throw new AgentStartError('the connection was superseded', true);
      this.endpointValue = { url, token };
      // No grpcAddress: the extension does not know a remote agent's gRPC port (the status route
      // does not say it, and a load balancer in front may not carry gRPC at all).
      this.setState({ kind: 'ready', url, pid: body.agent.pid });
    } catch (err) {
      if (generation !== this.generation || signal?.aborted) {
        if (generation === this.generation) this.setState({ kind: 'stopped' });
        throw err instanceof AgentStartError ? err : new AgentStartError('connecting was cancelled', true);
      }
      const message = err instanceof ProbeError ? err.message : `cannot reach the agent at ${url}: ${(err as Error).message}`;
      this.setState({ kind: 'failed', message });
      throw new AgentStartError(message);
    }
  }

  async stop(): Promise<void> {
    this.generation++;
    this.endpointValue = undefined;
    this.setState({ kind: 'stopped' });
  }

  async restart(signal?: AbortSignal): Promise<void> {
    await this.stop();
    await this.start(signal);
  }

  async dispose(): Promise<void> {
    this.changed.dispose();
  }

  private setState(state: AgentState): void {
    this._state = state;
    this.changed.fire(state);
  }
}
