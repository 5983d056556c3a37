// The agent the extension talks to: the local supervised process or a remote one, switched by the
// `inferscope.agent.url` setting. Views and commands see one state stream either way.
import type { AgentState, Endpoint } from './agentSupervisor.js';
import { Emitter } from '../emitter.js';

export interface AgentHandle {
  readonly state: AgentState;
  readonly pid: number | undefined;
  endpoint(): Endpoint | undefined;
  onDidChangeState(listener: (s: AgentState) => void): { dispose(): void };
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  restart(signal?: AbortSignal): Promise<void>;
  dispose(): Promise<void>;
}

export type AgentMode = { kind: 'local' } | { kind: 'remote'; url: string };

export class AgentConnection implements AgentHandle {
  private handle: AgentHandle;
  private sub: { dispose(): void };
  private readonly changed = new Emitter<AgentState>();

  constructor(
    handle: AgentHandle,
    public mode: AgentMode,
  ) {
    this.handle = handle;
    this.sub = handle.onDidChangeState((s) => this.changed.fire(s));
  }

  get state(): AgentState {
    return this.handle.state;
  }

  get pid(): number | undefined {
    return this.handle.pid;
  }

  endpoint(): Endpoint | undefined {
    return this.handle.endpoint();
  }

  /** Replaces the agent (stopping the old one) without starting the new one. */
  async use(handle: AgentHandle, mode: AgentMode): Promise<void> {
    const old = this.handle;
    this.sub.dispose();
    this.handle = handle;
    this.mode = mode;
    this.sub = handle.onDidChangeState((s) => this.changed.fire(s));
    await old.stop();
    await old.dispose();
    this.changed.fire(handle.state);
  }

  readonly onDidChangeState = this.changed.event;

  start(signal?: AbortSignal): Promise<void> {
    return this.handle.start(signal);
  }

  stop(): Promise<void> {
    return this.handle.stop();
  }

  restart(signal?: AbortSignal): Promise<void> {
    return this.handle.restart(signal);
  }

  async dispose(): Promise<void> {
    this.sub.dispose();
    this.changed.dispose();
    await this.handle.dispose();
  }
}
