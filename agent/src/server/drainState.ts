// Tracks requests in flight so that a graceful stop can wait for exactly those to finish.
import { ServerResponse, type IncomingMessage } from 'node:http';
import { ShuttingDownError } from '../errors.js';
import { isHealthPath } from './security.js';

export class DrainState {
  /** HTTP responses, and gRPC calls (any object that stands for one request). */
  private readonly responses = new Set<object>();
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  get inFlight(): number {
    return this.responses.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** From now on new requests get 503; resolves when the ones in flight are done. */
  drain(): Promise<void> {
    this.draining = true;
    // Answers still to come close their connection, so no client reuses it after the drain.
    for (const res of this.responses) if (isResponse(res) && !res.headersSent) res.shouldKeepAlive = false;
    if (this.responses.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops tracking a response (a long-lived stream must not hold up the drain). */
  detach(res: object): void {
    if (this.responses.delete(res) && this.responses.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Admits a request (tracked until its response finishes), or throws ShuttingDownError while
   * draining: a request that arrives on an open keep-alive connection during the drain gets a
   * clear answer instead of a reset connection. Health checks are always answered.
   */
  admit(_req: IncomingMessage, res: ServerResponse, path: string): void {
    this.track(res, path);
    // 'close' follows 'finish', and comes alone when the connection dies first.
    res.once('close', () => this.detach(res));
  }

  /** Counts a request the caller admitted itself (a gRPC call); detach() ends it. */
  hold(ticket: object): void {
    this.responses.add(ticket);
  }

  /** admit() without the 'close' listener: the caller calls detach() when the response closes. */
  track(res: object, path: string): void {
    if (this.draining && !isHealthPath(path)) throw new ShuttingDownError('the agent is shutting down and takes no new requests');
    this.responses.add(res);
  }
}

function isResponse(r: object): r is ServerResponse {
  return r instanceof ServerResponse;
}
