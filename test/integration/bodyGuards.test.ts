// Bodies are never read before the route and its guards have decided (Host, Origin, token, drain,
// an unknown model, a full queue), on the JSON and the binary path alike; bodies being received
// at once have a byte budget; a request must arrive within request_timeout_s; connections are
// bounded. Each case sends a body that never completes: an answer proves it was not waited for.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { argmax, exampleRequest, request } from '../helpers/http.js';
import { rawRequest, requestBytes, splitInferResponse } from '../helpers/rawHttp.js';

const TOKEN = 'body-guards-token-0123456789';
const auth = `Bearer ${TOKEN}`;
let agent: AgentProcess;
let host: string;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-guards-'));
  const config = join(dir, 'agent.json');
  // A small budget (3 bodies of 60 KB), a short request timeout, few connections.
  writeFileSync(config, JSON.stringify({ body_limit_bytes: 100_000, body_budget_bytes: 200_000, request_timeout_s: 2, max_connections: 40 }));
  agent = await startAgent({ args: ['--config', config], env: { INFERSCOPE_TOKEN: TOKEN } });
  host = `127.0.0.1:${agent.port}`;
});
after(async () => {
  await agent.stop();
});

const header = '{"inputs":[{"name":"pixels","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}],"parameters":{"binary_data_output":true}}';
const pixels = Buffer.from(Float32Array.from(exampleRequest(7).inputs[0]!.data as number[]).buffer);

/** A request that declares `declared` body bytes and sends only `sent` of them. */
function stalled(line: string, headers: [string, string | number][], declared: number, sent = Buffer.from('{"a":')): Buffer {
  return requestBytes(line, [['Host', host], ...headers, ['Content-Length', declared]], sent);
}

test('with a token, a body is not read before the token is checked: health, unknown routes and infer (JSON and binary)', async () => {
  // The red team's case: an unparseable body to a health path was parsed (400) instead of refused.
  const health = await rawRequest(agent.port, stalled('POST /v2/health/live HTTP/1.1', [['Content-Type', 'application/json']], 7_600_000));
  assert.equal(health.status, 404);
  assert.doesNotMatch(health.body.toString(), /JSON/);
  assert.equal(health.headers.connection, 'close');
  for (const [line, extra] of [
    ['POST /v2/models/digits/infer HTTP/1.1', []],
    ['POST /v2/models/digits/infer HTTP/1.1', [['Inference-Header-Content-Length', header.length]]],
    ['POST /v2/repository/models/digits/load HTTP/1.1', []],
    ['POST /api/v1/canaries HTTP/1.1', [['Content-Type', 'application/json']]],
    ['POST /v2/anything HTTP/1.1', []],
  ] as [string, [string, string | number][]][]) {
    const r = await rawRequest(agent.port, stalled(line, extra, 90_000));
    assert.equal(r.status, 401, line);
    assert.match(JSON.parse(r.body.toString()).error, /missing bearer token/);
  }
  assert.equal((await request(`${agent.url}/v2/health/live`)).status, 200);
});

test('the binary path applies every guard before its body: Host, Origin, size, unknown model, and the element limit', async () => {
  const binary = (line: string, extra: [string, string | number][], declared: number, body: Buffer = Buffer.from(header)) =>
    rawRequest(agent.port, requestBytes(line, [['Host', host], ['Authorization', auth], ['Inference-Header-Content-Length', header.length], ...extra, ['Content-Length', declared]], body));
  const foreign = await rawRequest(agent.port, requestBytes('POST /v2/models/digits/infer HTTP/1.1', [['Host', 'attacker.example'], ['Authorization', auth], ['Inference-Header-Content-Length', header.length], ['Content-Length', 90_000]], Buffer.from(header)));
  assert.equal(foreign.status, 403);
  const page = await binary('POST /v2/models/digits/infer HTTP/1.1', [['Origin', 'http://evil.example']], 90_000);
  assert.equal(page.status, 403);
  assert.match(JSON.parse(page.body.toString()).error, /requests from web pages on http:\/\/evil\.example are refused/);
  const big = await binary('POST /v2/models/digits/infer HTTP/1.1', [], 100_001);
  assert.equal(big.status, 413);
  assert.match(JSON.parse(big.body.toString()).error, /larger than the limit of 100000 bytes/);
  const unknown = await binary('POST /v2/models/nope/infer HTTP/1.1', [], 90_000);
  assert.equal(unknown.status, 404);
  // Complete, well-formed, but 65 rows: refused by the batch limit before any bytes are decoded.
  const rows = header.replace('[1,784]', '[65,784]').replace('3136', String(65 * 3136));
  const tooMany = await rawRequest(
    agent.port,
    requestBytes('POST /v2/models/digits/infer HTTP/1.1', [['Host', host], ['Authorization', auth], ['Inference-Header-Content-Length', rows.length], ['Content-Length', rows.length + 3136]], Buffer.concat([Buffer.from(rows), pixels])),
  );
  assert.equal(tooMany.status, 400);
  assert.match(JSON.parse(tooMany.body.toString()).error, /batch of 65 exceeds max_batch_size 64/);
  // And the real thing still works.
  const ok = await binary('POST /v2/models/digits/infer HTTP/1.1', [], header.length + 3136, Buffer.concat([Buffer.from(header), pixels]));
  assert.equal(ok.status, 200);
  const { binary: out } = splitInferResponse(ok);
  assert.equal(argmax(new Float32Array(Uint8Array.from(out.get('probs')!).buffer)), 7);
});

function open(bytes: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(agent.port, '127.0.0.1', () => {
      s.write(bytes);
      resolve(s);
    });
    s.on('error', reject);
  });
}

test('bodies being received at once share a byte budget: past it 503 + Retry-After, and the budget comes back', async () => {
  const line = 'POST /v2/models/digits/infer HTTP/1.1';
  const slow = await Promise.all([1, 2, 3].map(() => open(stalled(line, [['Authorization', auth]], 60_000))));
  // Let the agent take the three in: 180,000 of 200,000 bytes are now reserved.
  await new Promise((r) => setTimeout(r, 200));
  const busy = await rawRequest(agent.port, stalled(line, [['Authorization', auth]], 60_000));
  assert.equal(busy.status, 503);
  assert.equal(busy.headers['retry-after'], '1');
  assert.match(JSON.parse(busy.body.toString()).error, /receiving 200000 bytes of request bodies already; retry shortly/);
  // A small request still fits.
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(3), headers: { authorization: auth } })).status, 200);
  for (const s of slow) s.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const after = await rawRequest(agent.port, stalled(line, [['Authorization', auth]], 60_000, Buffer.alloc(0)), 5_000).catch((e: Error) => e);
  // Its body never comes: the request timeout answers it (408), not the budget.
  assert.ok(!(after instanceof Error) && after.status === 408, String(after instanceof Error ? after.message : after.status));
});

test('a body that does not arrive within request_timeout_s is answered 408 and its connection closed', async () => {
  const started = Date.now();
  const r = await rawRequest(agent.port, stalled('POST /v2/models/digits/infer HTTP/1.1', [['Authorization', auth]], 5_000), 10_000);
  assert.equal(r.status, 408);
  const waited = Date.now() - started;
  assert.ok(waited >= 1500 && waited < 6000, `answered after ${waited} ms`);
});

test('past max_connections the oldest idle connection makes room: a slowloris cannot lock a prompt client out, and requests in progress are kept', async () => {
  // One request in progress (its head sent, its body on the way), then 40 connections that send
  // nothing, as a slowloris does: together they are past the bound of 40.
  const busy = await open(stalled('POST /v2/models/digits/infer HTTP/1.1', [['Authorization', auth]], 60_000));
  await new Promise((r) => setTimeout(r, 100));
  const closedAt = new Map<Socket, number>();
  let closes = 0;
  const watch = (s: Socket) => s.on('close', () => closedAt.set(s, ++closes));
  watch(busy);
  const idle: Socket[] = [];
  for (let i = 0; i < 40; i++) {
    const s = await open(Buffer.alloc(0));
    watch(s);
    idle.push(s);
  }
  await waitFor(() => closes >= 1, 2000);
  assert.equal(closedAt.get(idle[0]!), 1, 'the oldest idle connection is the one closed');
  assert.equal(closedAt.has(busy), false, 'a request in progress is never closed for room');
  // A client that sends its request at once gets through, on a fresh connection, while every slot is taken.
  for (let i = 0; i < 3; i++) {
    const answer = await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(5), headers: { authorization: auth } });
    assert.equal(answer.status, 200);
    assert.equal(argmax(answer.body.outputs[0].data), 5);
  }
  assert.equal(closedAt.has(busy), false);
  assert.ok(closes >= 2 && closes <= 4, `the client's new connection closed one more idle one (${closes} closed)`);
  assert.equal(closedAt.get(idle[1]!), 2, 'again the oldest');
  for (const s of idle) s.destroy();
  busy.destroy();
});
