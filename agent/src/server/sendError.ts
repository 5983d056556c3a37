// Writes an error answer: the status, headers and {"error": message} that httpErrors.ts decides,
// for the lean infer path and the express app alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
  if (!req.complete && declaresBody(req)) {
    res.shouldKeepAlive = false;
    lingerWithoutReading(req.socket);
  }
  const body = JSON.stringify({ error: e.message });
  // Exactly "application/json" (JSON is UTF-8 by definition): KServe's client reads the error
  // message only when the Content-Type is that string.
  res.writeHead(e.status, { ...e.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}


/** How long a refused client has to read its answer before the connection is cut. */
const LINGER_MS = 5_000;

/**
 * Node closes the connection once the answer is sent, after reading (and dropping) whatever the
 * client still sends. A client that goes on sending (8 MiB bodies, 300 at a time) then costs the
 * agent a read of every byte, and reconnects at once to do it again: measured, the agent's CPU
 * went to dropping bodies and a normal client's p99 rose 75-fold. Instead the agent stops reading
 * (TCP flow control stalls the sender) and cuts the connection LINGER_MS after the answer, which
 * says `Connection: close`: the client can read its answer, and the sender is parked, not fed.
 * (No FIN before that: most clients close their side on one, and a hostile one then reconnects
 * at once to send again.)
 */
function lingerWithoutReading(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.pause();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}
