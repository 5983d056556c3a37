// Reads a request body into one Buffer, within bounds: the body limit (413, checked against
// Content-Length before a byte is read), a budget of bytes being received by all requests at once
// (503 + Retry-After past it: many slow or stalled bodies cannot take the agent's memory), and
// Content-Encoding gzip/deflate, inflated within the same limit. Called only once a route has
// been chosen and its guards have passed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip, inflate, type InputType } from 'node:zlib';
import { BodiesBusyError, BodyStalledError, InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';

/** One body being received: its reserved bytes, when a byte last came, and how to end it. */
export interface BodyHold {
  bytes: number;
  lastProgress: number;
  /** Ends the read at once (the budget gets its bytes back before this returns). */
  evict(): void;
}

/** Bodies up to this size (a few rows of a request) may use the part of the budget kept for them. */
export const SMALL_BODY = 64 * 1024;

/** A body that has sent nothing for this long may be ended to make room for others. */
export const STALL_MS = 2_000;

/**
 * The bytes of request bodies being received (and held) at once, by all requests. When a new body
 * does not fit, bodies that have stalled (no byte for STALL_MS) are ended to make room, oldest
 * stall first: otherwise a few clients that send all but the last byte of a large body would hold
 * the whole budget for request_timeout_s, and every other client would get 503.
 */
export class BodyBudget {
  private used = 0;
  private readonly holds = new Set<BodyHold>();

  constructor(
    readonly maxBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** Bodies ended for room, since start. */
  evictions = 0;

  /** Starts holding bytes for a body (none yet). */
  hold(evict: () => void): BodyHold {
    const hold: BodyHold = { bytes: 0, lastProgress: this.now(), evict };
    this.holds.add(hold);
    return hold;
  }

  /**
   * Reserves `n` more bytes for `hold` (and records progress); false if they do not fit. Large
   * bodies share all but the last eighth of the budget: that part stays for bodies of a request's
   * usual size (up to SMALL_BODY), so that large bodies, stalled or not, never turn every ordinary
   * request away.
   */
  tryReserve(hold: BodyHold, n: number): boolean {
    hold.lastProgress = this.now();
    const cap = hold.bytes + n > SMALL_BODY ? this.maxBytes - Math.floor(this.maxBytes / 8) : this.maxBytes;
    if (this.used + n > cap) this.makeRoom(this.used + n - cap, hold);
    if (this.used + n > cap) return false;
    this.used += n;
    hold.bytes += n;
    return true;
  }

  progress(hold: BodyHold): void {
    hold.lastProgress = this.now();
  }

  /** Gives a body's bytes back (once; later calls do nothing). */
  release(hold: BodyHold): void {
    if (!this.holds.delete(hold)) return;
    this.used -= hold.bytes;
    hold.bytes = 0;
  }

  private makeRoom(needed: number, asking: BodyHold): void {
    const now = this.now();
    const stalled = [...this.holds].filter((h) => h !== asking && h.bytes > 0 && now - h.lastProgress >= STALL_MS).sort((a, b) => a.lastProgress - b.lastProgress);
    let freed = 0;
    for (const h of stalled) {
      if (freed >= needed) break;
      freed += h.bytes;
      this.evictions++;
      h.evict();
      this.release(h);
    }
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

  let stall: (() => void) | undefined;
  const hold = budget.hold(() => stall?.());
  const reserve = (n: number) => {
    if (!budget.tryReserve(hold, n)) {
      budget.release(hold);
      throw new BodiesBusyError(`the agent is receiving ${budget.maxBytes} bytes of request bodies already; retry shortly`, 1);
    }
  };
  if (length !== undefined) reserve(length);

  const reading = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    stall = () => fail(new BodyStalledError(`the body stalled (no byte for ${STALL_MS / 1000} s) while other requests waited for room; send it without pauses`));
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
      budget.progress(hold);
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
    budget.release(hold);
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
