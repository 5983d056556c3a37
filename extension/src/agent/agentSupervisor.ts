// The one owner of the local agent process: start, stop, restart, and restarts after crashes with
// backoff, bounded by a crash budget and never after a deliberate stop. No VS Code imports: the
// extension wires its output and state into views.
import { randomBytes } from 'node:crypto';
import { AgentStartError } from '../errors.js';
import { CrashBudget, restartDelayMs } from './crashBudget.js';
import { describeAddresses } from './agentAddress.js';
import { launchAgent, type LaunchSpec, type RunningAgent } from './agentLaunch.js';
import { Emitter } from '../emitter.js';

export type AgentState =
  | { kind: 'stopped' }
  | { kind: 'starting'; attempt: number }
  /** `grpcAddress`: `127.0.0.1:40123`, absent when the agent serves no gRPC (and for a remote agent, whose gRPC port the extension does not know). */
  | { kind: 'ready'; url: string; grpcAddress?: string; pid: number }
  /** Exited unexpectedly; a restart is scheduled. */
  | { kind: 'crashed'; message: string; restartInMs: number }
  /** Could not start, or crashed too often: nothing more happens until the user starts it. */
  | { kind: 'failed'; message: string };

export interface Endpoint {
  url: string;
  token: string;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SupervisorOptions {
  /** The command line for one launch; `token` is fresh each time. */
  spec(token: string): Omit<LaunchSpec, 'token'>;
  readyTimeoutMs?: number;
  graceMs?: number;
  timers?: Timers;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** For tests and logs: called with every transition. */
  log?: (message: string) => void;
}

const realTimers: Timers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export class AgentSupervisor {
  private current: { agent: RunningAgent; token: string } | undefined;
  private _state: AgentState = { kind: 'stopped' };
  private readonly changed = new Emitter<AgentState>();
  private readonly timers: Timers;
  private readonly budget: CrashBudget;
  /** Bumped by every start/stop so late events of an old launch are ignored. */
  private generation = 0;
  private restartTimer: unknown;
  private starting: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: SupervisorOptions) {
    this.timers = opts.timers ?? realTimers;
    this.budget = new CrashBudget(() => this.timers.now());
  }

  get state(): AgentState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.current?.agent.pid;
  }

  endpoint(): Endpoint | undefined {
    return this._state.kind === 'ready' && this.current ? { url: this.current.agent.url, token: this.current.token } : undefined;
  }

  readonly onDidChangeState = this.changed.event;

  /** Starts the agent (a user's start forgives earlier crashes); resolves once it is ready. */
  async start(signal?: AbortSignal): Promise<void> {
    // A stop still draining the old process finishes first; then this start is a real one.
    await this.stopping;
    if (this._state.kind === 'ready' && this.current) return;
    if (this.starting) return this.starting;
    this.budget.reset();
    this.cancelRestart();
    return this.launch(1, signal);
  }

  /** A deliberate stop: the agent drains, and nothing restarts it. */
  stop(): Promise<void> {
    const stopping = this.stopNow().finally(() => {
      if (this.stopping === stopping) this.stopping = undefined;
    });
    this.stopping = stopping;
    return stopping;
  }

  private async stopNow(): Promise<void> {
    this.generation++;
    this.cancelRestart();
    this.abort?.abort();
    const current = this.current;
    this.current = undefined;
    if (current) {
      this.opts.log?.(`stopping the agent (pid ${current.agent.pid})`);
      const exit = await current.agent.stop(this.opts.graceMs ?? 5000);
      this.opts.log?.(`agent stopped (${exit.signal ?? `code ${exit.code}`})`);
    }
    await this.starting?.catch(() => undefined);
    this.setState({ kind: 'stopped' });
  }

  async restart(signal?: AbortSignal): Promise<void> {
    await this.stop();
    await this.start(signal);
  }

  dispose(): Promise<void> {
    this.changed.dispose();
    return this.stop();
  }

  private launch(attempt: number, signal?: AbortSignal): Promise<void> {
    const generation = ++this.generation;
    const abort = new AbortController();
    this.abort = abort;
    signal?.addEventListener('abort', () => abort.abort(), { once: true });
    const token = randomBytes(24).toString('base64url');
    this.setState({ kind: 'starting', attempt });
    const run = async () => {
      let agent: RunningAgent;
      try {
        const spec = { ...this.opts.spec(token), token };
        this.opts.log?.(`starting the agent: ${spec.command} ${spec.args.join(' ')}`);
        agent = await launchAgent(spec, { readyTimeoutMs: this.opts.readyTimeoutMs ?? 60_000, signal: abort.signal, ...(this.opts.onLine ? { onLine: this.opts.onLine } : {}) });
      } catch (err) {
        if (generation !== this.generation) throw err;
        const message = (err as Error).message;
        if (err instanceof AgentStartError && err.cancelled) this.setState({ kind: 'stopped' });
        else if (attempt > 1) this.crashed(`restart failed: ${message}`, attempt);
        else this.setState({ kind: 'failed', message });
        throw err;
      }
      if (generation !== this.generation) {
        await agent.stop(this.opts.graceMs ?? 5000);
        throw new AgentStartError('the agent was stopped while it started', true);
      }
      this.current = { agent, token };
      this.setState({ kind: 'ready', url: agent.url, ...(agent.grpcAddress ? { grpcAddress: agent.grpcAddress } : {}), pid: agent.pid });
      void agent.exited.then((exit) => {
        if (generation !== this.generation || this.current?.agent !== agent) return;
        this.current = undefined;
        this.crashed(`the agent exited unexpectedly (${exit.signal ?? `code ${exit.code}`})${agent.stderrTail() ? `\n${agent.stderrTail()}` : ''}`, 1);
      });
    };
    const starting = run().finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
    return starting;
  }

  private crashed(message: string, attempt: number): void {
    if (!this.budget.record()) {
      this.setState({ kind: 'failed', message: `The agent crashed ${this.budget.max} times in ${this.budget.windowMs / 60_000} minutes; it will not be restarted. Last: ${message}` });
      return;
    }
    const delay = restartDelayMs(this.budget.recent);
    this.setState({ kind: 'crashed', message, restartInMs: delay });
    const generation = this.generation;
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = undefined;
      if (generation !== this.generation) return;
      this.launch(attempt + 1).catch(() => undefined); // the state says what happened
    }, delay);
  }

  private cancelRestart(): void {
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private setState(state: AgentState): void {
    this._state = state;
    const detail = 'message' in state ? state.message.split('\n')[0] : state.kind === 'ready' ? describeAddresses(state) : undefined;
    this.opts.log?.(`agent state: ${state.kind}${detail ? ` (${detail})` : ''}`);
    this.changed.fire(state);
  }
}
