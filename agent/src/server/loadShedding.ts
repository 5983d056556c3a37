// Load shedding at the door: when the version an infer request is for has a full queue, answer
// 503 before its body is read and parsed. Under overload most requests are rejected, and parsing
// JSON only to reject it was what made rejections (and the admitted requests behind them) slow.
import type { NextFunction, Request, Response } from 'express';
import type { ModelManager } from '../models/modelManager.js';

// Express matches routes case-insensitively and with an optional trailing slash: so does this.
const INFER_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer\/?$/i;

export function shedWhenQueueFull(models: ModelManager) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const m = req.method === 'POST' ? INFER_PATH.exec(req.path) : null;
    if (!m) return next();
    let batcher;
    try {
      batcher = models.resolve(decodeURIComponent(m[1]!), m[2] === undefined ? undefined : decodeURIComponent(m[2])).batcher;
    } catch {
      return next(); // unknown or not ready: the route answers that, with its own message
    }
    try {
      batcher.checkCapacity();
    } catch (err) {
      return next(err);
    }
    next();
  };
}
