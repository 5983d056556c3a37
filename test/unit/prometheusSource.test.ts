// The Prometheus client's defences against a hostile or broken upstream, over real HTTP (a
// node:http stand-in: what matters here is what the client does with whatever a server sends).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { bucketSamples, collectFromPrometheus, PrometheusSourceError, type PromSample } from '../../agent/src/canary/prometheusSource.js';
import { parsePrometheusUrl } from '../../common/prometheusUrl.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const vector = (result: PromSample[]) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result } });
const collect = (url: string, extra: Partial<Parameters<typeof collectFromPrometheus>[0]> = {}) =>
  collectFromPrometheus({ target: parsePrometheusUrl(url), model: 'm', baseline: '1', candidate: '2', stepSeconds: 10, canarySeconds: 20, ...extra });

async function failure(p: Promise<unknown>): Promise<PrometheusSourceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PrometheusSourceError, String(err));
    return err;
  }
  assert.fail('the check succeeded');
}

test('reads a good reply; sends configured credentials as Basic auth to the configured path', async () => {
  const seen: { url: string; auth: string | undefined }[] = [];
  const base = await serve((req, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    const q = new URL(req.url!, 'http://x').searchParams.get('query')!;
    const rows: PromSample[] = q.includes('inference_requests_total')
      ? [{ metric: { version: '1' }, value: [0, '100'] }, { metric: { version: '2' }, value: [0, '90'] }]
      : q.includes('predictions_total')
        ? [{ metric: { version: '1', class: 'a' }, value: [0, '60'] }, { metric: { version: '2', class: 'b' }, value: [0, '30'] }]
        : [];
    res.end(vector(rows));
  });
  const data = await collect(`http://reader:s%40cret@${base.slice('http://'.length)}/prom/`);
  assert.equal(data.baselineTotal.requests, 100);
  assert.deepEqual(data.candidate.classCounts, [0, 30]);
  assert.equal(seen.length, 6);
  for (const s of seen) {
    assert.match(s.url, /^\/prom\/api\/v1\/query\?query=/);
    assert.equal(s.auth, `Basic ${Buffer.from('reader:s@cret').toString('base64')}`);
  }
});

test('an error status: a fixed message, never the body; the detail goes to the debug hook, cut short', async () => {
  const base = await serve((_req, res) => {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', error: `AKIA-SECRET-TOKEN-1234 ${'x'.repeat(5000)}` }));
  });
  const details: string[] = [];
  const err = await failure(collect(base, { onUpstreamDetail: (d) => details.push(d) }));
  assert.equal(err.kind, 'status');
  assert.equal(err.message, `Prometheus at ${base} answered HTTP 500`);
  assert.ok(details.length > 0 && details.every((d) => d.length < 400), 'bounded detail');
  assert.match(details[0]!, /^HTTP 500: AKIA-SECRET-TOKEN-1234/);
});

test('a huge streamed reply is cut at the cap, whatever Content-Length says (or does not say)', async () => {
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const base = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked, no length
    const pump = () => {
      while (written < 256 * 1024 * 1024 && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const err = await failure(collect(base, { maxReplyBytes: 1024 * 1024 }));
  assert.equal(err.kind, 'too_large');
  assert.equal(err.message, `Prometheus at ${base}: reply exceeded 1 MiB`);
  assert.ok(written < 64 * 1024 * 1024, `the client stopped reading (server wrote ${written} bytes)`);

  const declared = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': String(1 << 30) });
    res.write('{');
  });
  assert.equal((await failure(collect(declared, { maxReplyBytes: 1024 * 1024 }))).kind, 'too_large');
});

test('a reply that stalls (headers, then nothing) ends at the deadline, body included', async () => {
  const base = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"status":"success",');
  });
  const started = Date.now();
  const err = await failure(collect(base, { timeoutMs: 300 }));
  assert.equal(err.kind, 'timeout');
  assert.equal(err.message, `Prometheus at ${base} did not answer within 0.3 s`);
  assert.ok(Date.now() - started < 3000);
});

test('a redirect is not followed', async () => {
  let reachedTarget = 0;
  const target = await serve((_req, res) => {
    reachedTarget++;
    res.end(vector([]));
  });
  const base = await serve((_req, res) => {
    res.writeHead(302, { Location: `${target}/api/v1/query` });
    res.end();
  });
  const err = await failure(collect(base));
  assert.equal(err.message, `Prometheus at ${base} answered HTTP 302 (a redirect; not followed)`);
  assert.equal(reachedTarget, 0);
});

test('anything but a query result is "not a Prometheus query result", with no upstream text', async () => {
  for (const body of [
    '<html>secret admin page</html>',
    JSON.stringify({ status: 'error', error: 'secret' }),
    JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
    JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: null, value: [0, '1'] }] } }),
    JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, 'secret'] }] } }),
    JSON.stringify({ status: 'success', data: { resultType: 'vector', result: Array.from({ length: 6000 }, () => ({ metric: {}, value: [0, '1'] })) } }),
  ]) {
    const base = await serve((_req, res) => res.end(body));
    const err = await failure(collect(base));
    assert.equal(err.message, `Prometheus at ${base}: reply was not a Prometheus query result`, body.slice(0, 80));
  }
});

test('a server that is not there: unreachable, with the system error code only', async () => {
  const base = await serve(() => {});
  const server = servers.at(-1)!;
  await new Promise((resolve) => server.close(resolve));
  const err = await failure(collect(base));
  assert.equal(err.kind, 'unreachable');
  assert.equal(err.message, `Prometheus at ${base} could not be reached (ECONNREFUSED)`);
});

test('hostile histogram counts cannot make unbounded samples', () => {
  const row = (le: string, count: string): PromSample => ({ metric: { le }, value: [0, count] });
  // Falling cumulative counts (1e12, then 5) and absurd totals stay within the cap.
  assert.ok(bucketSamples([row('0.1', '1e12'), row('0.5', '1e12'), row('+Inf', '5')], 1, 1000).length <= 1003);
  assert.ok(bucketSamples([row('0.1', '1e300'), row('+Inf', '1e300')], 1, 1000).length <= 1002);
  assert.deepEqual(bucketSamples([row('nope', '3'), row('0.1', '2'), row('+Inf', '3')], 1000), [100, 100, 200]);
});
