// Tracks requests in flight so that a graceful stop can wait for exactly those to finish.
import type { NextFunction, Request, Response } from 'express';
import { ShuttingDownError } from '../errors.js';

export class DrainState {
  private readonly responses = new Set<Response>();
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
    for (const res of this.responses) if (!res.headersSent) res.shouldKeepAlive = false;
    if (this.responses.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops tracking a response (a long-lived stream must not hold up the drain). */
  detach(res: Response): void {
    if (this.responses.delete(res) && this.responses.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (this.draining && !req.path.startsWith('/v2/health/')) {
        // A request that arrives on an open keep-alive connection during the drain gets a clear
        // answer instead of a reset connection.
        return next(new ShuttingDownError('the agent is shutting down and takes no new requests'));
      }
      this.responses.add(res);
      const finish = () => {
        if (!this.responses.delete(res)) return;
        if (this.responses.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      };
      res.on('finish', finish);
      res.on('close', finish);
      next();
    };
  }
}
