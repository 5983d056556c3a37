// Token and Host checks on the real agent.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { runAgentToExit, startAgent, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';

const TOKEN = 'test-token-0123456789abcdef';
let agent: AgentProcess;
before(async () => {
  agent = await startAgent({ env: { INFERSCOPE_TOKEN: TOKEN } });
});
after(async () => {
  await agent.stop();
});

test('with a token, health routes are open and everything else needs it', async () => {
  assert.equal((await request(`${agent.url}/v2/health/live`)).status, 200);
  assert.equal((await request(`${agent.url}/v2/health/ready`)).status, 200);
  for (const path of ['/v2', '/v2/models/digits', '/metrics', '/api/v1/status']) {
    const none = await request(`${agent.url}${path}`);
    assert.equal(none.status, 401, path);
    assert.match(none.body.error, /missing bearer token/);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const wrong = await request(`${agent.url}${path}`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error, /wrong bearer token/);
    const right = await request(`${agent.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200, path);
  }
  const infer = await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(2), headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(infer.status, 200);
});

test('the token never appears in the log', () => {
  assert.doesNotMatch(agent.stderr() + agent.stdout(), new RegExp(TOKEN));
});

function getWithHost(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: agent.port, path: '/v2/health/live', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a foreign Host header (DNS rebinding) is refused with 403', async () => {
  const evil = await getWithHost(`attacker.example:${agent.port}`);
  assert.equal(evil.status, 403);
  assert.match(JSON.parse(evil.body).error, /Host "attacker\.example:\d+" is not allowed/);
  for (const ok of [`localhost:${agent.port}`, `127.0.0.1:${agent.port}`, `[::1]:${agent.port}`]) {
    assert.equal((await getWithHost(ok)).status, 200, ok);
  }
});

test('no CORS headers are sent', async () => {
  const r = await fetch(`${agent.url}/v2/health/live`, { headers: { origin: 'http://evil.example' } });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});

test('binding a non-loopback address without a token is refused at start-up', async () => {
  const r = await runAgentToExit(['--host', '0.0.0.0', '--port', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
  assert.equal(r.stdout, '');
});

test('fault injection is refused unless the agent was started with --enable-faults', async () => {
  const r = await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'PUT', body: { error_rate: 1 }, headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 403);
  assert.match(r.body.error, /fault injection is disabled; start the agent with --enable-faults/);
});
