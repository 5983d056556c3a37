// Server-Sent Events for /api/v1/events: a `snapshot` event (the status) every second and each
// discrete agent event as it happens, to every connected client.
import type { Response } from 'express';
import type { AgentEvent, AgentStatus } from '../../../common/api.js';

export class SseHub {
  private readonly clients = new Set<Response>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly snapshot: () => AgentStatus,
    private readonly intervalMs = 1000,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  add(res: Response): void {
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
      if (this.clients.size === 0) this.stopTimer();
    });
    // Snapshots are built only while someone listens.
    this.timer ??= setInterval(() => this.broadcastSnapshot(), this.intervalMs);
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
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
