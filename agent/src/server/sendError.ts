// Writes an error answer: the status, headers and {"error": message} that httpErrors.ts decides,
// for the lean infer path and the express app alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { declaresBody } from './bodyReader.js';
import { toHttpError } from './httpErrors.js';

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger): void {
  const e = toHttpError(err);
  const path = (req.url ?? '').split('?')[0];
  // A client that went away reads no answer: what became of its request is not the agent's error
  // (at a stop, batches of clients that left are cut off with the models).
  const gone = res.destroyed && !res.writableEnded;
  if (e.internal && !gone) logger.error('request failed', { method: req.method, path, error: (err as Error)?.stack ?? String(err) });
  else logger.debug('request rejected', { method: req.method, path, status: e.status, error: e.message });
  if (res.headersSent) return void res.end();
  // A body that was never read (refused before reading: token, route, size, busy) would have to be
  // drained off the socket before another request: close the connection instead.
  if (!req.complete && declaresBody(req)) res.shouldKeepAlive = false;
  const body = JSON.stringify({ error: e.message });
  // Exactly "application/json" (JSON is UTF-8 by definition): KServe's client reads the error
  // message only when the Content-Type is that string.
  res.writeHead(e.status, { ...e.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

