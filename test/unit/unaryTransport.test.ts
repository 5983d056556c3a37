// The agent's unary gRPC wire (agent/src/grpc/unaryTransport.ts), driven by a plain node:http2
// client that writes the bytes grpc/doc/PROTOCOL-HTTP2.md describes: length-prefixed messages,
// compression flags, grpc-timeout, RST_STREAM. The stock @grpc/grpc-js client is the integration
// tests' (test/integration/grpc*.test.ts); here are the bytes a stock client never sends.
import assert from 'node:assert/strict';
import http2, { type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { GrpcStatus } from '../../agent/src/grpc/grpcStatus.js';
import { ALIGN_BYTES, encodeGrpcMessage, frame, parseGrpcTimeout, startUnaryTransport, type UnaryCall, type UnaryMethod, type UnaryTransport } from '../../agent/src/grpc/unaryTransport.js';

const MAX = 1024;
const ended: [string | undefined, number][] = [];
let cancelled = 0;
let releaseSlow: (() => void) | undefined;
let transport: UnaryTransport;
let client: ClientHttp2Session;

/**
 * Its payload starts after the first '*' of the message. Answers where the message landed: whether
 * the call owns it, the payload's offset in its ArrayBuffer modulo ALIGN_BYTES, and the message.
 */
const placeMethod: UnaryMethod = {
  payloadOffset: (head) => {
    const star = head.indexOf(0x2a);
    return star < 0 ? undefined : star + 1;
  },
  handle: (call: UnaryCall) => {
    const payloadAt = call.message.byteOffset + call.message.indexOf(0x2a) + 1;
    const own = call.owned && call.message.buffer.byteLength - call.message.byteOffset === call.message.length;
    return Buffer.concat([Buffer.from(`${call.owned}:${own}:${payloadAt % ALIGN_BYTES}:`), call.message]);
  },
};

before(async () => {
  transport = await startUnaryTransport({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: MAX,
    service: 'test.Echo',
    methods: {
      Echo: { handle: (call) => Buffer.concat([Buffer.from(`${call.metadata['x-tag'] ?? ''}:`), call.message]) },
      Fail: {
        handle: async () => {
          throw new Error('bad 100% ünïcode\nline');
        },
      },
      Place: placeMethod,
      Slow: {
        handle: (call) =>
          new Promise<Buffer>((resolve) => {
            call.onCancel(() => cancelled++);
            releaseSlow = () => resolve(Buffer.from('late'));
          }),
      },
    },
    toStatus: (err) => ({ code: GrpcStatus.INVALID_ARGUMENT, details: (err as Error).message }),
    onEnd: (rpc, code) => ended.push([rpc, code]),
  });
  client = http2.connect(`http://127.0.0.1:${transport.port}`);
});
after(async () => {
  client.close();
  await transport.close();
});

interface Answer {
  httpStatus: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** grpc-status from trailers, or from the headers (Trailers-Only). */
  code: number;
  message: string;
}

function call(path: string, body: Buffer | Buffer[], headers: OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => {
      const status = trailers['grpc-status'] ?? responseHeaders['grpc-status'];
      const message = String(trailers['grpc-message'] ?? responseHeaders['grpc-message'] ?? '');
      resolve({ httpStatus: Number(responseHeaders[':status']), headers: responseHeaders, trailers, body: Buffer.concat(chunks), code: status === undefined ? -1 : Number(status), message: decodeURIComponent(message) });
    });
    for (const part of Array.isArray(body) ? body : [body]) stream.write(part);
    stream.end();
  });
}

test('a message in, a message out: the answer is one frame, grpc-status 0 in trailers; custom metadata reaches the method', async () => {
  const a = await call('/test.Echo/Echo', frame(Buffer.from('hello')), { 'x-tag': 't1' });
  assert.equal(a.httpStatus, 200);
  assert.equal(a.headers['content-type'], 'application/grpc+proto');
  assert.equal(a.trailers['grpc-status'], '0');
  assert.deepEqual(a.body, frame(Buffer.from('t1:hello')));
});

test('a message split over many DATA frames, and the empty message, arrive whole', async () => {
  const message = Buffer.alloc(1000, 7);
  const whole = frame(message);
  const parts = [whole.subarray(0, 2), whole.subarray(2, 6), whole.subarray(6, 500), whole.subarray(500)];
  const a = await call('/test.Echo/Echo', parts);
  assert.deepEqual(a.body, frame(Buffer.concat([Buffer.from(':'), message])));
  const empty = await call('/test.Echo/Echo', frame(Buffer.alloc(0)));
  assert.deepEqual(empty.body, frame(Buffer.from(':')));
});

test('a message is received into one buffer of its own, placed so that the payload payloadOffset finds starts aligned', async () => {
  // owned : the buffer holds just this message (after the alignment pad) : payload offset mod ALIGN_BYTES
  for (const prefix of ['', 'a', 'abc', 'x'.repeat(70)]) {
    const message = Buffer.from(`${prefix}*${'p'.repeat(300)}`);
    const a = await call('/test.Echo/Place', frame(message));
    assert.deepEqual(a.body, frame(Buffer.concat([Buffer.from('true:true:0:'), message])), `prefix of ${prefix.length}`);
  }
  // Split over DATA frames, the prefix alone in the first: still whole, and still the call's own
  // (no '*' in the first bytes: no alignment, nothing else changes).
  const message = Buffer.from(`abc*${'q'.repeat(900)}`);
  const whole = frame(message);
  const split = await call('/test.Echo/Place', [whole.subarray(0, 3), whole.subarray(3, 6), whole.subarray(6, 400), whole.subarray(400)]);
  assert.match(split.body.subarray(5).toString(), /^true:true:\d+:abc\*q{900}$/);
  const found = await call('/test.Echo/Place', [whole.subarray(0, 20), whole.subarray(20)]);
  assert.deepEqual(found.body, frame(Buffer.concat([Buffer.from('true:true:0:'), message])));
  // A decompressed message is not the call's own: it is zlib's buffer.
  const packed = gzipSync(message);
  const gzPrefix = Buffer.from([1, 0, 0, 0, 0]);
  gzPrefix.writeUInt32BE(packed.length, 1);
  const gz = await call('/test.Echo/Place', Buffer.concat([gzPrefix, packed]), { 'grpc-encoding': 'gzip' });
  assert.match(gz.body.subarray(5).toString(), /^false:/);
});

test('a message larger than the receive window is collected chunk by chunk, arrives whole, and is not owned by the call', async () => {
  const big = await startUnaryTransport({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 8 * 1024 * 1024,
    service: 'test.Echo',
    methods: { Place: placeMethod },
    toStatus: (err) => ({ code: GrpcStatus.INTERNAL, details: (err as Error).message }),
  });
  const bigClient = http2.connect(`http://127.0.0.1:${big.port}`);
  try {
    const message = Buffer.concat([Buffer.from('*'), Buffer.alloc(5 * 1024 * 1024, 9)]);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const stream = bigClient.request({ ':method': 'POST', ':path': '/test.Echo/Place', 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('close', () => resolve(Buffer.concat(chunks)));
      stream.end(frame(message));
    });
    assert.match(answer.subarray(5, 30).toString('latin1'), /^false:\w+:\d+:\*/);
    assert.ok(answer.subarray(5).subarray(-message.length).equals(message), 'the message arrives whole');

    // Calls that send a length prefix and stall hold what was allocated for them, up to 64 MiB in
    // all: 16 stalled calls of 4 MiB take it, so the next message is collected chunk by chunk (not
    // owned); once they are reset, messages are preallocated again. A complete call answered in
    // between orders the steps: frames of one connection are read in order.
    const place = (body: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const stream = bigClient.request({ ':method': 'POST', ':path': '/test.Echo/Place', 'content-type': 'application/grpc', te: 'trailers' });
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('close', () => resolve(Buffer.concat(chunks).subarray(5).toString('latin1')));
        stream.end(frame(body));
      });
    const claim = Buffer.alloc(5);
    claim.writeUInt32BE(4 * 1024 * 1024, 1);
    const stalled = Array.from({ length: 16 }, () => {
      const stream = bigClient.request({ ':method': 'POST', ':path': '/test.Echo/Place', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('error', () => {});
      stream.write(claim);
      return stream;
    });
    await place(Buffer.from('*sync'));
    assert.match(await place(Buffer.from('*probe')), /^false:/, 'over the budget: collected as it comes');
    const gone = stalled.map((stream) => new Promise((resolve) => stream.on('close', resolve)));
    for (const stream of stalled) stream.close(http2.constants.NGHTTP2_CANCEL);
    await Promise.all(gone);
    await place(Buffer.from('*sync'));
    assert.match(await place(Buffer.from('*probe')), /^true:true:0:/, 'the budget given back');
  } finally {
    bigClient.close();
    await big.close();
  }
});

test('gzip- and deflate-compressed messages are decompressed; an unknown encoding is UNIMPLEMENTED, naming the ones accepted', async () => {
  const packed = gzipSync(Buffer.from('squeezed'));
  const body = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), packed]);
  body.writeUInt32BE(packed.length, 1);
  const a = await call('/test.Echo/Echo', body, { 'grpc-encoding': 'gzip' });
  assert.equal(a.code, GrpcStatus.OK);
  assert.deepEqual(a.body, frame(Buffer.from(':squeezed')));

  const zlibbed = deflateSync(Buffer.from('deflated'));
  const deflated = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), zlibbed]);
  deflated.writeUInt32BE(zlibbed.length, 1);
  assert.deepEqual((await call('/test.Echo/Echo', deflated, { 'grpc-encoding': 'deflate' })).body, frame(Buffer.from(':deflated')));

  const snappy = await call('/test.Echo/Echo', body, { 'grpc-encoding': 'snappy' });
  assert.equal(snappy.code, GrpcStatus.UNIMPLEMENTED);
  assert.match(snappy.message, /"snappy" is not supported; use one of identity,deflate,gzip/);
  assert.equal(snappy.headers['grpc-accept-encoding'], 'identity,deflate,gzip');

  const unnamed = await call('/test.Echo/Echo', body);
  assert.equal(unnamed.code, GrpcStatus.INVALID_ARGUMENT);
  assert.match(unnamed.message, /marked compressed but the call names no grpc-encoding/);

  const garbage = Buffer.from([1, 0, 0, 0, 3, 1, 2, 3]);
  const bad = await call('/test.Echo/Echo', garbage, { 'grpc-encoding': 'gzip' });
  assert.equal(bad.code, GrpcStatus.INVALID_ARGUMENT);
  assert.match(bad.message, /not valid gzip/);
});

test('a compressed message that inflates past the limit is RESOURCE_EXHAUSTED (a zip bomb is not unpacked)', async () => {
  const packed = gzipSync(Buffer.alloc(MAX * 100));
  const body = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), packed]);
  body.writeUInt32BE(packed.length, 1);
  assert.ok(packed.length < MAX);
  const a = await call('/test.Echo/Echo', body, { 'grpc-encoding': 'gzip' });
  assert.equal(a.code, GrpcStatus.RESOURCE_EXHAUSTED);
});

test('a message over the limit is refused from its length prefix, before the rest is read', async () => {
  const a = await call('/test.Echo/Echo', Buffer.from([0, 0, 0x10, 0, 0]));
  assert.equal(a.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.match(a.message, /larger than max \(1048576 vs\. 1024 bytes\)/);
});

test('framing mistakes are INVALID_ARGUMENT, each saying which: truncated, no message, two messages, a bad flag', async () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0, 0, 0, 0, 9, 1, 2]), /truncated \(7 of 14 bytes\)/],
    [Buffer.from([0, 0]), /truncated \(2 of 5 bytes\)/],
    [Buffer.alloc(0), /received no request message/],
    [Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]), /unary: the request holds more than one message/],
    [Buffer.from([2, 0, 0, 0, 1, 9]), /compressed flag is 2/],
  ];
  for (const [body, message] of cases) {
    const a = await call('/test.Echo/Echo', body);
    assert.equal(a.code, GrpcStatus.INVALID_ARGUMENT, a.message);
    assert.match(a.message, message);
  }
});

test('unknown methods are UNIMPLEMENTED naming the service; a non-gRPC request gets an HTTP status', async () => {
  const a = await call('/test.Echo/Nope', frame(Buffer.alloc(0)));
  assert.equal(a.code, GrpcStatus.UNIMPLEMENTED);
  assert.match(a.message, /unknown method \/test\.Echo\/Nope: this server implements test\.Echo \(Echo, Fail, Place, Slow\)/);
  const other = await call('/other.Service/Echo', frame(Buffer.alloc(0)));
  assert.equal(other.code, GrpcStatus.UNIMPLEMENTED);
  // Object.prototype names are not methods.
  assert.equal((await call('/test.Echo/constructor', frame(Buffer.alloc(0)))).code, GrpcStatus.UNIMPLEMENTED);

  const json = await call('/test.Echo/Echo', Buffer.from('{}'), { 'content-type': 'application/json' });
  assert.equal(json.httpStatus, 415);
  assert.match(json.body.toString(), /this port speaks gRPC/);
});

test('a method that fails: its status and message, percent-encoded in grpc-message as the protocol asks', async () => {
  const a = await call('/test.Echo/Fail', frame(Buffer.alloc(0)));
  assert.equal(a.code, GrpcStatus.INVALID_ARGUMENT);
  assert.equal(a.headers['grpc-message'], 'bad 100%25 %C3%BCn%C3%AFcode%0Aline');
  assert.equal(a.message, 'bad 100% ünïcode\nline');
  assert.equal(encodeGrpcMessage('plain ASCII ~'), 'plain ASCII ~');
});

test('grpc-timeout: parsed in every unit; a call past its deadline is DEADLINE_EXCEEDED and its method is told', async () => {
  assert.equal(parseGrpcTimeout('2H'), 7_200_000);
  assert.equal(parseGrpcTimeout('3M'), 180_000);
  assert.equal(parseGrpcTimeout('99S'), 99_000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('1500u'), 1.5);
  assert.equal(parseGrpcTimeout('2000000n'), 2);
  for (const bad of ['123456789S', '10', 'S', '-1m', '1.5S', undefined]) assert.equal(parseGrpcTimeout(bad), undefined, String(bad));

  const before = cancelled;
  const a = await call('/test.Echo/Slow', frame(Buffer.alloc(0)), { 'grpc-timeout': '30m' });
  assert.equal(a.code, GrpcStatus.DEADLINE_EXCEEDED);
  assert.equal(cancelled, before + 1);
  releaseSlow!(); // the late answer is dropped, not written into a finished stream
});

test('a client that resets the stream cancels the call: the method is told, the end is counted CANCELLED', async () => {
  const before = cancelled;
  releaseSlow = undefined;
  const stream = client.request({ ':method': 'POST', ':path': '/test.Echo/Slow', 'content-type': 'application/grpc' });
  stream.on('error', () => {});
  stream.end(frame(Buffer.alloc(0)));
  // Reset only once the call has reached its method (it has set releaseSlow).
  while (!releaseSlow) await new Promise((resolve) => setImmediate(resolve));
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await new Promise((resolve) => stream.on('close', resolve));
  while (cancelled === before) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cancelled, before + 1);
  assert.deepEqual(ended.at(-1), ['Slow', GrpcStatus.CANCELLED]);
  (releaseSlow as (() => void) | undefined)?.();
});

test('close(): a call in flight is answered; the session then ends; no new connection is taken', async () => {
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  const t = await startUnaryTransport({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: MAX,
    service: 'test.Echo',
    methods: {
      Wait: {
        handle: () => {
          started();
          return new Promise<Buffer>((resolve) => setTimeout(() => resolve(Buffer.from('done')), 50));
        },
      },
    },
    toStatus: () => ({ code: GrpcStatus.INTERNAL, details: 'x' }),
  });
  const c = http2.connect(`http://127.0.0.1:${t.port}`);
  const answer = new Promise<Buffer>((resolve, reject) => {
    const s = c.request({ ':method': 'POST', ':path': '/test.Echo/Wait', 'content-type': 'application/grpc' });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.end(frame(Buffer.alloc(0)));
  });
  await inFlight; // the call is in the server's hands (a fixed sleep lost this race on a busy machine)
  const closed = t.close();
  assert.deepEqual(await answer, frame(Buffer.from('done')));
  await closed;
  const refused = http2.connect(`http://127.0.0.1:${t.port}`);
  const err = await new Promise<Error>((resolve) => refused.on('error', resolve));
  assert.match(err.message, /ECONNREFUSED/);
  c.close();
});

test('maxConnections: a connection beyond it is closed; the ones within it keep working', async () => {
  const t = await startUnaryTransport({
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: MAX,
    maxConnections: 1,
    service: 'test.Echo',
    methods: { Echo: { handle: (call) => call.message } },
    toStatus: () => ({ code: GrpcStatus.INTERNAL, details: 'x' }),
  });
  const echo = (c: ClientHttp2Session) =>
    new Promise<Buffer>((resolve, reject) => {
      const s = c.request({ ':method': 'POST', ':path': '/test.Echo/Echo', 'content-type': 'application/grpc' });
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.end(frame(Buffer.from('hi')));
    });
  const first = http2.connect(`http://127.0.0.1:${t.port}`);
  assert.deepEqual(await echo(first), frame(Buffer.from('hi')));
  const second = http2.connect(`http://127.0.0.1:${t.port}`);
  second.on('error', () => {});
  await new Promise((resolve) => second.once('close', resolve));
  assert.deepEqual(await echo(first), frame(Buffer.from('hi')), 'the first connection still serves');
  first.close();
  await t.close();
});
