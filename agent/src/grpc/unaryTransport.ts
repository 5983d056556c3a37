// Unary gRPC over node:http2 (grpc/doc/PROTOCOL-HTTP2.md): one length-prefixed message in, one
// out, the status in trailers. The agent's RPCs are all unary, and a general gRPC library costs
// more per call than the whole REST path (bench/README.md, "gRPC"), so the agent speaks the wire
// format itself, as its REST door speaks HTTP/1 on node:http. Bytes in, bytes out: messages are
// encoded and decoded by the caller. Knows nothing of the agent.
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { GrpcStatus, type GrpcStatusCode } from './grpcStatus.js';

export interface UnaryCall {
  /** The method's name (`ModelInfer`). */
  rpc: string;
  /** The request message, decompressed. */
  message: Buffer;
  /**
   * The message's memory is this call's alone (not pooled, not shared with another call): the
   * handler may keep views of it and transfer its ArrayBuffer to another thread.
   */
  owned: boolean;
  /** Request headers (custom metadata included), names in lower case. */
  metadata: IncomingHttpHeaders;
  /** From `grpc-timeout`: ms since the epoch, or Infinity. */
  deadline: number;
  /** Runs `fn` once if the client cancels the call or its deadline passes before the answer. */
  onCancel(fn: () => void): void;
}

export interface CallStatus {
  code: GrpcStatusCode;
  details: string;
}

export interface UnaryMethod {
  /** Resolves to the encoded response message; a rejection becomes a status through `toStatus`. */
  handle(call: UnaryCall): Promise<Buffer> | Buffer;
  /**
   * Where a payload the handler will view in place (a tensor) starts in the message, read from
   * the message's first bytes (undefined: not there, or not known): the message is received at an
   * offset that puts that payload on an ALIGN_BYTES boundary, so no aligned copy is needed.
   */
  payloadOffset?(head: Buffer): number | undefined;
}

export interface UnaryTransportOptions {
  host: string;
  port: number;
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond, before it is buffered). */
  maxMessageBytes: number;
  /** Connections accepted at once; more are closed as they come (each holds an HTTP/2 session). */
  maxConnections?: number;
  /** Methods by name, served at /{service}/{name}. */
  service: string;
  methods: Record<string, UnaryMethod>;
  toStatus(err: unknown, rpc: string): CallStatus;
  /** Every call's end, answered or not (metrics). `rpc` is undefined for an unknown path. */
  onEnd?(rpc: string | undefined, code: GrpcStatusCode): void;
}

export interface UnaryTransport {
  port: number;
  /** Takes no new connections and ends sessions once their calls are answered. */
  close(): Promise<void>;
  /** Ends every session now. */
  force(): void;
}

/** HTTP/2 receive window: a 64-row request (200 KB) arrives without waiting for window updates. */
const WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * A message up to this size is received straight into one buffer allocated from its length prefix
 * (no list of chunks, no copy into a contiguous body). It is the stream's window: what a client
 * may send without waiting for the agent anyway, so a prefix alone cannot make the agent allocate
 * more than that. Larger messages are collected chunk by chunk as they come.
 */
const PREALLOCATE_MAX_BYTES = WINDOW_BYTES;
/**
 * Bytes preallocated for messages still arriving, over all calls: beyond it, a call collects its
 * chunks as they come (memory that grows only with what was sent), so that many calls that send a
 * prefix and stall cannot make the agent reserve more than this.
 */
const PREALLOCATE_BUDGET_BYTES = 64 * 1024 * 1024;
/** Where `payloadOffset` puts the payload: a cache line, more than any element type needs. */
export const ALIGN_BYTES = 64;
const ENCODINGS = 'identity,deflate,gzip';
const CONTENT_TYPE = 'application/grpc+proto';
const TIMEOUT_UNITS_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** `grpc-timeout` (at most 8 digits and a unit) as ms; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const m = typeof value === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  return m ? Number(m[1]) * TIMEOUT_UNITS_MS[m[2]!]! : undefined;
}

/** `grpc-message` is percent-encoded UTF-8: everything outside 0x20–0x7E, and '%', is escaped. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** One message as a gRPC frame: compressed flag 0, 4-byte big-endian length, the bytes. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

class Refused extends Error {
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export async function startUnaryTransport(opts: UnaryTransportOptions): Promise<UnaryTransport> {
  const prefix = `/${opts.service}/`;
  const sessions = new Set<ServerHttp2Session>();
  let preallocated = 0; // bytes of PREALLOCATE_BUDGET_BYTES held by calls still arriving
  const server = http2.createServer({
    settings: { initialWindowSize: WINDOW_BYTES },
    // Node's default (10 MB) counts queued outbound data too; 64 calls of 200 KB in flight on one
    // connection would be refused with ENHANCE_YOUR_CALM.
    maxSessionMemory: 64,
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {}); // a peer's protocol error ends its session, not the agent
    session.setLocalWindowSize?.(WINDOW_BYTES);
  });
  server.on('stream', (stream, headers) => serve(stream, headers));
  if (opts.maxConnections) server.maxConnections = opts.maxConnections;

  function serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => {}); // a reset stream ends the call, not the agent
    const path = headers[':path'] ?? '';
    const rpc = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
    const method = rpc !== undefined && Object.hasOwn(opts.methods, rpc) ? opts.methods[rpc]! : undefined;
    if (headers[':method'] !== 'POST' || !String(headers['content-type'] ?? '').startsWith('application/grpc')) {
      // Not gRPC at all: an HTTP answer, as the protocol document asks (415 for a wrong type).
      if (!stream.destroyed) stream.respond({ ':status': headers[':method'] !== 'POST' ? 405 : 415, 'content-type': 'text/plain' }, { endStream: false });
      stream.end('this port speaks gRPC (application/grpc over HTTP/2); the REST API is on the HTTP port\n');
      opts.onEnd?.(rpc, GrpcStatus.INVALID_ARGUMENT);
      return;
    }

    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    let cancelListeners: (() => void)[] | undefined;
    const cancel = () => {
      const listeners = cancelListeners;
      cancelListeners = undefined;
      for (const fn of listeners ?? []) fn();
    };
    const finish = (code: GrpcStatusCode, details: string, message?: Buffer) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      opts.onEnd?.(method ? rpc : undefined, code);
      if (stream.destroyed || stream.closed) return;
      if (message) {
        stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE, 'grpc-accept-encoding': ENCODINGS }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(frame(message));
      } else {
        // Trailers-Only: the status in the one HEADERS frame.
        stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE, 'grpc-accept-encoding': ENCODINGS, 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, { endStream: true });
      }
      // Answered before the request ended (refused early): no need for the rest of it.
      if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    };
    const refuse = (err: Refused) => finish(err.code, err.message);

    if (!method) return refuse(new Refused(GrpcStatus.UNIMPLEMENTED, `unknown method ${path}: this server implements ${opts.service} (${Object.keys(opts.methods).join(', ')})`));
    const encoding = String(headers['grpc-encoding'] ?? 'identity');
    if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') {
      return refuse(new Refused(GrpcStatus.UNIMPLEMENTED, `message encoding "${encoding}" is not supported; use one of ${ENCODINGS}`));
    }
    const timeout = parseGrpcTimeout(headers['grpc-timeout']);
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        finish(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded before the call was answered');
        cancel();
      }, timeout);
    }
    // A client that resets the stream cancels its call.
    stream.once('close', () => {
      if (!answered) {
        answered = true;
        clearTimeout(timer);
        opts.onEnd?.(rpc, GrpcStatus.CANCELLED);
        cancel();
      }
    });

    // The message arrives in DATA chunks. Once the 5-byte prefix is in, a message up to
    // PREALLOCATE_MAX_BYTES gets one buffer of its size, `pad` bytes in (see payloadOffset), and
    // each chunk is copied there as it comes; a larger one is collected as a list of chunks.
    let head: Buffer[] = []; // chunks until the prefix is in, then a larger message's chunks
    let received = 0;
    let expected = -1; // 5 + the message length, once the prefix is in
    let body: Buffer | undefined; // the preallocated message buffer, `pad` bytes before the message
    let pad = 0;
    let flag = 0; // the prefix's compressed flag
    let reserved = 0; // this call's share of `preallocated`, given back once its message is in or it ends
    const unreserve = () => {
      preallocated -= reserved;
      reserved = 0;
    };
    stream.once('close', unreserve);
    stream.on('data', (chunk: Buffer) => {
      if (answered) return;
      received += chunk.length;
      if (expected >= 0 && received > expected) return refuse(new Refused(GrpcStatus.INVALID_ARGUMENT, `${rpc} is unary: the request holds more than one message`));
      if (body) {
        body.set(chunk, pad + received - chunk.length - 5);
        return;
      }
      head.push(chunk);
      if (expected >= 0 || received < 5) return;
      const first = head.length === 1 ? chunk : Buffer.concat(head, received);
      const length = first.readUInt32BE(1);
      if (length > opts.maxMessageBytes) {
        return refuse(new Refused(GrpcStatus.RESOURCE_EXHAUSTED, `received message larger than max (${length} vs. ${opts.maxMessageBytes} bytes)`));
      }
      expected = 5 + length;
      if (received > expected) return refuse(new Refused(GrpcStatus.INVALID_ARGUMENT, `${rpc} is unary: the request holds more than one message`));
      if (length > PREALLOCATE_MAX_BYTES || preallocated + length > PREALLOCATE_BUDGET_BYTES) return;
      flag = first[0]!;
      const inFirst = first.subarray(5);
      const offset = flag === 0 ? method.payloadOffset?.(inFirst) : undefined;
      pad = offset === undefined ? 0 : (ALIGN_BYTES - (offset % ALIGN_BYTES)) % ALIGN_BYTES;
      // Not from Buffer's shared pool: the call owns it (UnaryCall.owned) and may transfer it.
      body = Buffer.allocUnsafeSlow(pad + length);
      body.set(inFirst, pad);
      head = [];
      reserved = length;
      preallocated += reserved;
    });
    stream.on('end', () => {
      unreserve();
      if (answered) return;
      if (expected < 0 || received < expected) {
        return refuse(new Refused(GrpcStatus.INVALID_ARGUMENT, received === 0 ? `${rpc} received no request message` : `the request message is truncated (${received} of ${expected < 0 ? 5 : expected} bytes)`));
      }
      let message: Buffer;
      try {
        if (body) message = unpack(flag, body.subarray(pad), encoding, opts.maxMessageBytes);
        else {
          const whole = head.length === 1 ? head[0]! : Buffer.concat(head, received);
          message = unpack(whole[0]!, whole.subarray(5), encoding, opts.maxMessageBytes);
        }
      } catch (err) {
        return refuse(err as Refused);
      }
      const call: UnaryCall = {
        rpc: rpc!,
        message,
        // Only the preallocated buffer is the call's alone (a decompressed message may not be).
        owned: body !== undefined && flag === 0,
        metadata: headers,
        deadline,
        onCancel: (fn) => {
          if (answered) return;
          (cancelListeners ??= []).push(fn);
        },
      };
      let result: Promise<Buffer> | Buffer;
      try {
        result = method.handle(call);
      } catch (err) {
        return finishWith(err);
      }
      if (Buffer.isBuffer(result)) finish(GrpcStatus.OK, '', result);
      else result.then((answer) => finish(GrpcStatus.OK, '', answer), finishWith);
    });
    function finishWith(err: unknown): void {
      const status = opts.toStatus(err, rpc!);
      finish(status.code, status.details);
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  server.on('error', () => {});

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // GOAWAY: calls in flight finish, new ones go elsewhere; the session closes after them.
        for (const session of sessions) session.close();
      }),
    force: () => {
      for (const session of sessions) session.destroy();
    },
  };
}

/** The message of a frame, decompressed when its flag says so. */
function unpack(flag: number, message: Buffer, encoding: string, max: number): Buffer {
  if (flag === 0) return message;
  if (flag !== 1) throw new Refused(GrpcStatus.INVALID_ARGUMENT, `the message's compressed flag is ${flag}; it must be 0 or 1`);
  if (encoding === 'identity') throw new Refused(GrpcStatus.INVALID_ARGUMENT, 'the message is marked compressed but the call names no grpc-encoding');
  try {
    return encoding === 'gzip' ? gunzipSync(message, { maxOutputLength: max }) : inflateSync(message, { maxOutputLength: max });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new Refused(GrpcStatus.RESOURCE_EXHAUSTED, `the decompressed message is larger than max (${max} bytes)`);
    }
    throw new Refused(GrpcStatus.INVALID_ARGUMENT, `the message is not valid ${encoding} (${(err as Error).message})`);
  }
}
