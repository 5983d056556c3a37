// One subscription to GET /api/v1/events (Server-Sent Events), reconnecting with backoff while it
// is wanted. Callers decide when it runs (only while a view is visible).
import type { AgentEvent, AgentStatus } from '../../../common/api.js';
import { SseParser } from '../../../common/sseParser.js';
import type { AgentClient } from '../client/agentClient.js';

export type StreamState = 'idle' | 'connecting' | 'open' | 'retrying';

export interface StreamHandlers {
  onSnapshot(status: AgentStatus): void;
  onEvent(event: AgentEvent): void;
  onState(state: StreamState, detail?: string): void;
}

/** The agent sends a snapshot every second: this long without a byte means the connection is dead. */
export const IDLE_TIMEOUT_MS = 10_000;

/** 0.5 s doubling to 10 s; reset once a connection opens. */
export function reconnectDelayMs(failures: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, failures - 1));
}

export class EventStream {
  private abort: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running = false;

  constructor(
    private readonly client: AgentClient,
    private readonly handlers: StreamHandlers,
    private readonly idleTimeoutMs = IDLE_TIMEOUT_MS,
  ) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    void this.connect();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.abort = undefined;
    this.handlers.onState('idle');
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const abort = new AbortController();
    this.abort = abort;
    this.handlers.onState('connecting');
    let detail = 'the stream ended';
    try {
      const res = await this.client.request('GET', '/api/v1/events', undefined, abort.signal, 'text/event-stream');
      this.failures = 0;
      this.handlers.onState('open');
      const parser = new SseParser((e) => {
        if (e.event === 'snapshot') this.handlers.onSnapshot(JSON.parse(e.data) as AgentStatus);
        else this.handlers.onEvent({ type: e.event, ...(JSON.parse(e.data) as object) } as AgentEvent);
      });
      const decoder = new TextDecoder();
      // A connection that silently died (a load balancer, a sleeping laptop) sends nothing: drop it.
      const idle = setTimeout(() => abort.abort(new Error(`no data for ${this.idleTimeoutMs / 1000} s`)), this.idleTimeoutMs);
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          idle.refresh();
          parser.feed(decoder.decode(chunk, { stream: true }));
        }
      } finally {
        clearTimeout(idle);
      }
    } catch (err) {
      detail = abort.signal.reason instanceof Error ? abort.signal.reason.message : (err as Error).message;
    }
    // Stopped on purpose: no retry. (An idle abort is not a stop: `running` is still true.)
    if (!this.running || this.abort !== abort) return;
    this.failures++;
    const delay = reconnectDelayMs(this.failures);
    this.handlers.onState('retrying', `${detail}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }
}
