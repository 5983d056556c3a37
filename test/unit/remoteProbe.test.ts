// Connect to Remote Agent checks the URL first (issue 19): what failed, in words, against real
// HTTP servers standing in for what a user may type.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { probeAgent } from '../../extension/src/agent/remoteProbe.js';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const timeout = () => AbortSignal.timeout(2000);

test('an Inferscope agent with the right token: its pid, and whether its models have loaded', async () => {
  const url = await serve((req, res) => {
    if (req.headers.authorization !== 'Bearer good-token-0123456789') return void res.writeHead(401).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agent: { name: 'inferscope', pid: 77, ready: false, loaded: true } }));
  });
  assert.deepEqual(await probeAgent(url, 'good-token-0123456789', timeout()), { pid: 77, ready: false, loaded: true });
  await assert.rejects(probeAgent(url, 'wrong', timeout()), /refused the token \(401\)/);
});

test('what failed, in words: refused, not an Inferscope agent, no answer', async () => {
  const closed = await serve(() => {});
  const gone = servers.pop()!;
  await new Promise((r) => gone.close(r)); // nothing listens there any more
  await assert.rejects(probeAgent(closed, '', timeout()), /: connection refused \(is the agent running, on that port\?\)/);
  await assert.rejects(probeAgent('http://127.0.0.1:9', '', timeout()), /127\.0\.0\.1:9: that port is reserved for another service/);
  const other = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'));
  await assert.rejects(probeAgent(other, '', timeout()), /is not an Inferscope agent \(GET \/api\/v1\/status answered 200 without an Inferscope status\)/);
  const missing = await serve((_req, res) => res.writeHead(404).end());
  await assert.rejects(probeAgent(missing, '', timeout()), /is not an Inferscope agent \(GET \/api\/v1\/status answered 404\)/);
  const silent = await serve(() => {}); // accepts, never answers
  await assert.rejects(probeAgent(silent, '', AbortSignal.timeout(200)), /no answer in time/);
});
