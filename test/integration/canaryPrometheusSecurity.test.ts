// The canary's Prometheus source against a hostile or unlisted upstream, over real HTTP to the real
// agent. The upstreams are node:http stand-ins: what is under test is the agent's client, and a
// real Prometheus would never send a 64 MiB reply or a secret in its error text.
// A canary may name only a URL of the agent's `prometheus_urls`; replies are capped (8 MiB per
// check, 5 s); reasons carry fixed text; credentials in the config reach the upstream as Basic auth
// and nothing else (state file, API, events, log).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Canary } from '../../common/api.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { SseClient } from '../helpers/sseClient.js';

const PASSWORD = 'S3cr3t-Pa55word';
const UPSTREAM_SECRET = 'AKIA-UPSTREAM-SECRET-7731';
const MiB = 1024 * 1024;
const REPLY_BYTES = 256 * MiB;

/** A stand-in upstream that records what reached it. */
interface StandIn {
  url: string;
  requests: { url: string; authorization?: string }[];
  /** Bytes it wrote in reply bodies. */
  written: number;
}

const servers: Server[] = [];
const dirs: string[] = [];
let agent: AgentProcess;
let off: AgentProcess;
let stateDir: string;
let forbidden: StandIn; // in no allowlist: nothing may ever reach it
let prefixed: StandIn; // allowed only under /prom
let huge: StandIn;
let failing: StandIn;
let stalling: StandIn;
let withCredentials: StandIn;

async function standIn(reply: (req: IncomingMessage, res: ServerResponse, self: StandIn) => void): Promise<StandIn> {
  const self: StandIn = { url: '', requests: [], written: 0 };
  const server = createServer((req, res) => {
    self.requests.push({ url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    reply(req, res, self);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return self;
}

const emptyVector = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });

before(async () => {
  forbidden = await standIn((_req, res) => res.end(emptyVector));
  prefixed = await standIn((_req, res) => res.end(emptyVector));
  // 256 MiB per reply, streamed without a Content-Length, each of them a plausible query result.
  huge = await standIn((_req, res, self) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const row = Buffer.from('{"metric":{"version":"2","le":"0.1"},"value":[1,"1"]},'.repeat(1000));
    let sent = 0;
    const pump = () => {
      if (sent === 0) res.write('{"status":"success","data":{"resultType":"vector","result":[');
      while (sent < REPLY_BYTES && !res.destroyed) {
        sent += row.length;
        self.written += row.length;
        if (!res.write(row)) return void res.once('drain', pump);
      }
      res.end('{}]}}');
    };
    pump();
  });
  failing = await standIn((_req, res) => {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', errorType: 'internal', error: `credentials ${UPSTREAM_SECRET} rejected` }));
  });
  stalling = await standIn((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"status":"success",'); // and nothing more
  });
  withCredentials = await standIn((_req, res) => res.end(emptyVector));

  const dir = mkdtempSync(join(tmpdir(), 'inferscope-promsec-'));
  dirs.push(dir);
  stateDir = join(dir, 'state');
  const config = join(dir, 'agent.json');
  const userinfo = `reader:${PASSWORD}@`;
  writeFileSync(
    config,
    JSON.stringify({
      prometheus_urls: [`${prefixed.url}/prom/`, huge.url, failing.url, stalling.url, withCredentials.url.replace('://', `://${userinfo}`)],
    }),
  );
  // Debug level: the log must stay free of credentials even at its most verbose.
  [agent, off] = await Promise.all([
    startAgent({ args: ['--config', config, '--state-dir', stateDir, '--log-level', 'debug'] }),
    startAgent({ args: ['--state-dir', join(dir, 'state-off')] }),
  ]);
});

after(async () => {
  await Promise.all([agent?.stop(), off?.stop()]);
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const spec = (url: string, maxInconclusive = 0) => ({
  model: 'digits',
  candidate: '2',
  steps: [50, 100],
  interval_s: 0.2,
  checks_per_step: 1,
  thresholds: { max_inconclusive_checks: maxInconclusive },
  source: { kind: 'prometheus', url },
});

/** Starts a canary and waits until it has ended (each check it cannot judge counts toward rollback). */
async function canaryUntilEnded(url: string, maxInconclusive = 0, timeoutMs = 20_000): Promise<Canary> {
  const started = await request<Canary>(`${agent.url}/api/v1/canaries`, { body: spec(url, maxInconclusive) });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const get = () => request<Canary>(`${agent.url}/api/v1/canaries/${started.body.id}`).then((r) => r.body);
  await waitFor(async () => (await get()).state !== 'running', timeoutMs);
  return get();
}

/** The reasons of every metric the source could not judge, in every check. */
const sourceReasons = (c: Canary) => [...new Set(c.checks.flatMap((k) => k.metrics.filter((m) => m.name !== 'breaker').map((m) => m.reason)))];

function memoryKiB(field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
}

test('without prometheus_urls, Prometheus sources are off, and the refusal says how to turn them on', async () => {
  const res = await request<{ error: string }>(`${off.url}/api/v1/canaries`, { body: spec(forbidden.url) });
  assert.equal(res.status, 400);
  assert.match(res.body.error, /Prometheus sources are off on this agent.*`prometheus_urls`/);
  assert.equal(forbidden.requests.length, 0);
});

test('a canary naming anything but a configured URL is refused (400) and nothing reaches that server', async () => {
  const host = forbidden.url.slice('http://'.length);
  const allowed = `${prefixed.url}/prom`;
  const cases = [
    forbidden.url, // another host
    `${prefixed.url}/admin`, // a configured host, another path
    prefixed.url, // the configured entry has a path: the bare host is another URL
    `${forbidden.url}/x#`, // the `#` trick: the agent's /api/v1/query would become a fragment
    `${allowed}#`,
    `${allowed}?x=1`,
    `${allowed}@${host}`, // userinfo: the host is really the forbidden one
    `http://reader:guess@${prefixed.url.slice('http://'.length)}/prom`, // credentials in the spec
  ];
  for (const url of cases) {
    const res = await request<{ error: string }>(`${agent.url}/api/v1/canaries`, { body: spec(url) });
    assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error, /allowed: .*http:\/\/127\.0\.0\.1:\d+\/prom.*prometheus_urls/, url);
    assert.doesNotMatch(res.body.error, new RegExp(PASSWORD), 'configured credentials are never shown');
    assert.doesNotMatch(res.body.error, /guess/, 'nor are the request’s');
  }
  // Give a wrongly started canary time for a check or two before looking.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(forbidden.requests, []);
  assert.deepEqual(prefixed.requests, []);
  assert.equal((await request<Canary[]>(`${agent.url}/api/v1/canaries`)).body.length, 0, 'no canary was started');
});

test('a configured URL with a path is queried under that path', async () => {
  const c = await canaryUntilEnded(`${prefixed.url}/prom/`);
  assert.equal(c.source.kind === 'prometheus' && c.source.url, `${prefixed.url}/prom`);
  assert.ok(prefixed.requests.length >= 6);
  assert.ok(prefixed.requests.every((r) => r.url.startsWith('/prom/api/v1/query?query=')));
});

test('256 MiB replies are cut at 8 MiB: a fixed reason, memory stays far below one reply, inference goes on', async () => {
  // The test before this one has warmed up the agent's HTTP client (its first use costs memory of
  // its own), and one request warms up inference. Reset the peak (VmHWM) to the current RSS so the
  // peak measures this test alone.
  assert.equal((await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(0) })).status, 200);
  writeFileSync(`/proc/${agent.proc.pid}/clear_refs`, '5');
  const rssBefore = memoryKiB('VmRSS');
  let inferring = true;
  const latencies: number[] = [];
  const statuses: number[] = [];
  const load = (async () => {
    for (let i = 0; inferring; i++) {
      const t0 = performance.now();
      const r = await request(`${agent.url}/v2/models/digits/infer`, { body: exampleRequest(i % 10) });
      latencies.push(performance.now() - t0);
      statuses.push(r.status);
    }
  })();
  // Four checks of six queries: 6 GiB on offer.
  const c = await canaryUntilEnded(huge.url, 3);
  inferring = false;
  await load;
  const growthMiB = (memoryKiB('VmHWM') - rssBefore) / 1024;

  assert.equal(c.checks.length, 4);
  assert.deepEqual(sourceReasons(c), [`metric source unavailable: Prometheus at ${huge.url}: reply exceeded 8 MiB`]);
  // What the stand-in wrote includes what sat in socket buffers when the agent hung up.
  assert.ok(huge.written < REPLY_BYTES, `the agent stopped reading (the stand-in wrote ${(huge.written / MiB).toFixed(0)} MiB in all)`);
  // Reading a single reply whole would take more than 256 MiB (the bytes, then their text).
  assert.ok(growthMiB < 128, `peak RSS grew by ${growthMiB.toFixed(1)} MiB`);
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `infer statuses: ${[...new Set(statuses)]}`);
  assert.ok(Math.max(...latencies) < 2000, `slowest infer request: ${Math.max(...latencies).toFixed(0)} ms`);
});

test('an upstream error is "answered HTTP 500"; its text reaches neither the reason nor the API', async () => {
  const c = await canaryUntilEnded(failing.url);
  assert.deepEqual(sourceReasons(c), [`metric source unavailable: Prometheus at ${failing.url} answered HTTP 500`]);
  for (const body of [JSON.stringify(c), JSON.stringify((await request(`${agent.url}/api/v1/status`)).body), readFileSync(join(stateDir, 'canaries.json'), 'utf8')]) {
    assert.doesNotMatch(body, new RegExp(UPSTREAM_SECRET));
  }
});

test('a reply that never finishes ends the check at 5 s: "did not answer within 5 s"', async () => {
  const started = Date.now();
  const c = await canaryUntilEnded(stalling.url, 0, 15_000);
  assert.deepEqual(sourceReasons(c), [`metric source unavailable: Prometheus at ${stalling.url} did not answer within 5 s`]);
  assert.ok(Date.now() - started < 9000);
});

test('configured credentials reach the upstream as Basic auth, and appear nowhere else', async () => {
  const events = await SseClient.connect(`${agent.url}/api/v1/events`);
  try {
    const c = await canaryUntilEnded(withCredentials.url);
    assert.deepEqual(c.source, { kind: 'prometheus', url: withCredentials.url });
    const basic = `Basic ${Buffer.from(`reader:${PASSWORD}`).toString('base64')}`;
    assert.ok(withCredentials.requests.length >= 6);
    for (const r of withCredentials.requests) {
      assert.equal(r.authorization, basic);
      assert.match(r.url, /^\/api\/v1\/query\?query=/, 'credentials are not in the URL');
    }
    await events.next((m) => m.event === 'canary' && m.data.canary?.id === c.id && m.data.canary.state !== 'running');
    const surfaces = {
      'canaries.json': readFileSync(join(stateDir, 'canaries.json'), 'utf8'),
      'GET /api/v1/canaries': JSON.stringify((await request(`${agent.url}/api/v1/canaries`)).body),
      'GET /api/v1/status': JSON.stringify((await request(`${agent.url}/api/v1/status`)).body),
      'the event stream': JSON.stringify(events.messages),
      "the agent's log": agent.stderr(),
    };
    for (const [where, text] of Object.entries(surfaces)) {
      assert.ok(!text.includes(PASSWORD), `the password is in ${where}`);
      assert.ok(!text.includes(basic.slice('Basic '.length)), `the encoded credentials are in ${where}`);
    }
  } finally {
    events.close();
  }
});
