// Server-Sent Events for /api/v1/events: a `snapshot` event (the status) every second and each
// discrete agent event as it happens, to every connected client.
import type { Response } from 'express';
import type { AgentEvent, AgentStatus } from '../../../common/api.js';

/** A client that lets this much pile up unread is dropped (it can reconnect). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
export const MAX_SSE_CLIENTS = 32;
/** A client whose writes have not drained for this long is dropped: it holds a slot and reads nothing. */
export const SSE_STALL_MS = 30_000;

export class SseHub {
  private readonly clients = new Set<Response>();
  /** When each client's pending writes started waiting to drain. */
  private readonly stalledSince = new Map<Response, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly snapshot: () => AgentStatus,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
    private readonly stallMs = SSE_STALL_MS,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Starts a stream; false (and a 503) if too many are open. */
  add(res: Response): boolean {
    if (this.clients.size >= MAX_SSE_CLIENTS) {
      res.status(503).set('Retry-After', '5').json({ error: `too many event streams open (${MAX_SSE_CLIENTS}); close one and retry` });
      return false;
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    this.write(res, 'snapshot', this.snapshot());
    res.on('close', () => {
      this.clients.delete(res);
      this.stalledSince.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    res.on('drain', () => this.stalledSince.delete(res));
    // Snapshots are built only while someone listens.
    this.timer ??= setInterval(() => this.broadcastSnapshot(), this.intervalMs);
    return true;
  }

  publish(event: AgentEvent): void {
    for (const res of this.clients) this.write(res, event.type, event);
  }

  /** Ends every stream (the agent is stopping); clients reconnect to whatever comes next. */
  closeAll(): void {
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private broadcastSnapshot(): void {
    if (this.clients.size === 0) return;
    const data = this.snapshot();
    for (const res of this.clients) this.write(res, 'snapshot', data);
  }

  private write(res: Response, event: string, data: unknown): void {
    const stalled = this.stalledSince.get(res);
    if (res.writableLength > MAX_BUFFERED_BYTES || (stalled !== undefined && this.now() - stalled > this.stallMs)) {
      // A client that does not read must not grow the agent's memory, nor hold a slot, for long.
      res.destroy();
      this.clients.delete(res);
      this.stalledSince.delete(res);
      return;
    }
    if (!res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) && stalled === undefined) this.stalledSince.set(res, this.now());
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
