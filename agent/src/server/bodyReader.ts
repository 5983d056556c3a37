// Reads a request body into one Buffer, within bounds: the body limit (413, checked against
// Content-Length before a byte is read), a budget of bytes being received by all requests at once
// (503 + Retry-After past it: many slow or stalled bodies cannot take the agent's memory), and
// Content-Encoding gzip/deflate, inflated within the same limit. Called only once a route has
// been chosen and its guards have passed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip, inflate, type InputType } from 'node:zlib';
import { BodiesBusyError, InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/** The bytes of request bodies being received (and held) at once, by all requests. */
export class BodyBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get inUse(): number {
    return this.used;
  }

  tryReserve(n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
  }
}

export interface BodyLimits {
  limitBytes: number;
  budget: BodyBudget;
}


const EMPTY = Buffer.alloc(0);

/** Whether the request says a body follows (a length above 0, or chunked). */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the body is larger than the limit of ${limit} bytes; send fewer rows per request`);
}

/**
 * Resolves with the (inflated) body. Its bytes count against the budget while they are being
 * received; once the body is complete (or the read fails) they are given back. What a request holds
 * after that is bounded by the queue (max_queue_size) and the body limit.
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits): Promise<Buffer> {
  const { limitBytes, budget } = limits;
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new UnsupportedMediaTypeError(`Content-Encoding "${encoding}" is not supported; send the body plain, gzip or deflate`);
  }
  if (length !== undefined && length > limitBytes) throw tooLarge(limitBytes);
  if (!declaresBody(req)) return EMPTY;

  let reserved = 0;
  const reserve = (n: number) => {
    if (!budget.tryReserve(n)) {
      throw new BodiesBusyError(`the agent is receiving ${budget.maxBytes} bytes of request bodies already; retry shortly`, 1);
    }
    reserved += n;
  };
  if (length !== undefined) reserve(length);

  const reading = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      // The rest of the body is not read: the connection cannot be reused for another request.
      res.shouldKeepAlive = false;
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) return fail(tooLarge(limitBytes));
      if (length === undefined) {
        try {
          reserve(chunk.length);
        } catch (err) {
          return fail(err as Error);
        }
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // A connection that dies mid-body (the client, or the request timeout) ends the read. 'close'
    // also follows every complete body: no error is built then (an Error's stack costs the hot path).
    req.on('close', () => settled || fail(new InvalidInputError('the request was aborted by the client before its body was complete')));
    req.on('error', (err) => settled || fail(new InvalidInputError(`the request body could not be read: ${err.message}`)));
  });
  let raw: Buffer;
  try {
    raw = await reading;
  } finally {
    budget.release(reserved);
  }
  if (encoding === 'identity') return raw;
  return inflateWithin(raw, encoding === 'deflate' ? inflate : gunzip, limitBytes, encoding);
}

function inflateWithin(
  raw: Buffer,
  method: (buf: InputType, options: { maxOutputLength: number }, cb: (err: Error | null, out: Buffer) => void) => void,
  limit: number,
  encoding: string,
): Promise<Buffer> {
  // The compressed bytes were counted against the budget; the inflated ones are bounded by the
  // limit itself (a zip bomb ends at `limit` bytes, in the thread pool, off the event loop).
  return new Promise((resolve, reject) => {
    method(raw, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return reject(tooLarge(limit));
      reject(new InvalidInputError(`the body is not valid ${encoding} data: ${err.message}`));
    });
  });
}
