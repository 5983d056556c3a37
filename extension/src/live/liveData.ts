// The extension's live picture of the agent: the latest status snapshot and the discrete events,
// fed by one SSE subscription that runs only while some Inferscope view is visible and the agent
// is reachable. Views register their visibility; nothing polls while none is visible.
import type { AgentEvent, AgentStatus } from '../../../common/api.js';
import type { AgentState } from '../agent/agentSupervisor.js';
import type { AgentClient } from '../client/agentClient.js';
import { Emitter } from '../emitter.js';
import { EventStream, type StreamState } from './eventStream.js';
import { RequestRate, type RequestRates } from './requestRate.js';

export class LiveData {
  private readonly visible = new Set<string>();
  private readonly stream: EventStream;
  private agentReady = false;
  private _latest: AgentStatus | undefined;
  private _streamState: StreamState = 'idle';
  private readonly rate = new RequestRate();

  readonly onSnapshot = new Emitter<AgentStatus>();
  readonly onEvent = new Emitter<AgentEvent>();
  readonly onStreamState = new Emitter<{ state: StreamState; detail?: string }>();

  constructor(private readonly client: AgentClient) {
    this.stream = new EventStream(client, {
      onSnapshot: (s) => {
        this._latest = s;
        this.rate.add(s);
        this.onSnapshot.fire(s);
      },
      onEvent: (e) => this.onEvent.fire(e),
      onState: (state, detail) => {
        this._streamState = state;
        this.onStreamState.fire({ state, ...(detail !== undefined ? { detail } : {}) });
      },
    });
  }

  get latest(): AgentStatus | undefined {
    return this._latest;
  }

  get streamState(): StreamState {
    return this._streamState;
  }

  /** Inference requests per second over the last snapshots (undefined until two arrived). */
  get requestsPerSecond(): number | undefined {
    return this.rate.perSecond();
  }

  /** The same rate per model: what the Metrics panel's Traffic section charts. */
  get requestRates(): RequestRates | undefined {
    return this.rate.rates();
  }

  get subscribed(): boolean {
    return this.stream.active;
  }

  setVisible(viewId: string, isVisible: boolean): void {
    if (isVisible) this.visible.add(viewId);
    else this.visible.delete(viewId);
    this.update();
  }

  agentStateChanged(state: AgentState): void {
    const ready = state.kind === 'ready';
    if (ready === this.agentReady) {
      if (ready) this.restart(); // a new process (restart): a new stream
      return;
    }
    this.agentReady = ready;
    if (!ready) {
      this._latest = undefined;
      this.rate.clear();
    }
    this.update();
  }

  /** One fresh status (after a command changed something), without waiting for the next tick. */
  async refresh(): Promise<AgentStatus | undefined> {
    if (!this.agentReady) return undefined;
    const s = await this.client.status();
    if (!this.agentReady) return undefined; // stopped while the request ran
    this._latest = s;
    this.onSnapshot.fire(s);
    return s;
  }

  dispose(): void {
    this.stream.stop();
    this.onSnapshot.dispose();
    this.onEvent.dispose();
    this.onStreamState.dispose();
  }

  private restart(): void {
    this.stream.stop();
    this.update();
  }

  private update(): void {
    if (this.agentReady && this.visible.size > 0) this.stream.start();
    else this.stream.stop();
  }
}
