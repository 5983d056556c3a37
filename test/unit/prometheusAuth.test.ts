// Credentials for the fleet's Prometheus: the headers, the URL setting's userinfo (sent as Basic,
// never shown), and over real HTTP (a node:http Prometheus stand-in that demands credentials):
// the client and the fleet watcher without credentials (401: the message names the command), with
// them, refused ones (403), and a redirect they do not follow.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { FleetWatcher } from '../../extension/src/fleet/fleetWatcher.js';
import {
  SET_CREDENTIALS_TITLE,
  authorizationFor,
  authorizationKind,
  credentialProblem,
  credentialsSecretKey,
  prometheusTarget,
} from '../../extension/src/fleet/prometheusAuth.js';
import { PrometheusClient, PrometheusError } from '../../extension/src/fleet/prometheusQuery.js';

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

const TOKEN = 's3cret-token';

/** A Prometheus behind auth: answers only `Authorization: <expected>`, 401 without one, 403 with another. */
async function guardedPrometheus(expected: string, seen: (string | undefined)[] = []): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization === undefined) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('Unauthorized');
    if (req.headers.authorization !== expected) return void res.writeHead(403).end('Forbidden');
    const path = new URL(req.url!, 'http://x').pathname;
    res.writeHead(200, { 'content-type': 'application/json' });
    if (path === '/api/v1/targets') {
      return void res.end(
        JSON.stringify({
          status: 'success',
          data: {
            activeTargets: [0, 1].map((i) => ({
              labels: { job: 'inferscope', instance: `127.0.0.1:800${i}`, replica: `r${i}` },
              scrapeUrl: `http://127.0.0.1:800${i}/metrics`,
              health: 'up',
              lastError: '',
              lastScrape: '',
              scrapeInterval: '1s',
            })),
          },
        }),
      );
    }
    const query = new URL(req.url!, 'http://x').searchParams.get('query') ?? '';
    const result = query.startsWith('sum by (model) (rate(inferscope_inference_requests_total')
      ? [
          { metric: { model: 'digits' }, value: [0, '7.5'] },
          { metric: { model: 'iris' }, value: [0, '2.5'] },
        ]
      : [];
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PrometheusError, String(err));
    return err;
  }
  assert.fail('expected a PrometheusError');
}

test('the headers: Bearer <token>, Basic base64(user:password) split at the first colon', () => {
  assert.equal(authorizationFor('bearer', ` ${TOKEN} `), `Bearer ${TOKEN}`);
  assert.equal(authorizationFor('basic', 'ann:pa:ss'), `Basic ${Buffer.from('ann:pa:ss').toString('base64')}`);
  assert.equal(authorizationKind(`Bearer ${TOKEN}`), 'bearer');
  assert.equal(authorizationKind('Basic YTpi'), 'basic');
  assert.equal(authorizationKind(undefined), undefined);
  assert.equal(credentialProblem('bearer', TOKEN), undefined);
  assert.match(credentialProblem('bearer', '')!, /Enter the token/);
  assert.match(credentialProblem('basic', 'no-colon')!, /user:password/);
  assert.match(credentialProblem('basic', ':pw')!, /user:password/);
  assert.match(credentialProblem('bearer', 'a\r\nX-Evil: 1')!, /Control characters/);
  // Keyed by the URL without credentials: one server's credentials never go to another.
  assert.equal(credentialsSecretKey('http://prom:9090'), 'inferscope.fleet.prometheusAuth:http://prom:9090');
});

test("the URL setting: userinfo becomes Basic and leaves the URL; a bad setting's problem never quotes it", () => {
  assert.deepEqual(prometheusTarget('http://prom:9090/'), { url: 'http://prom:9090' });
  assert.deepEqual(prometheusTarget(' https://ann:p%40ss@Prom.example:443/sub/ '), { url: 'https://prom.example/sub', authorization: `Basic ${Buffer.from('ann:p@ss').toString('base64')}` });
  const query = prometheusTarget('http://ann:hunter2@prom:9090/?x=1');
  assert.equal(query.url, 'http://prom:9090');
  assert.match(query.problem!, /without a query or fragment/);
  const bad = prometheusTarget('ftp://ann:hunter2@prom');
  assert.match(bad.problem!, /expected an http\(s\):\/\/ URL/);
  assert.ok(!JSON.stringify(bad).includes('hunter2'), JSON.stringify(bad));
  // No scheme, or a `/` in the password: the URL parser refuses them, and the password still goes.
  for (const raw of ['ann:hunter2@prom:9090', 'http://ann:hun/ter2@prom:9090', 'http://ann:hunter2@bad host:9090']) {
    const t = prometheusTarget(raw);
    assert.ok(t.problem, raw);
    assert.ok(!JSON.stringify(t).includes('hunter2') && !JSON.stringify(t).includes('ter2'), JSON.stringify(t));
  }
});

test('over HTTP: without credentials a 401 says to set them with the command; with the token the query answers', async () => {
  const seen: (string | undefined)[] = [];
  const url = await guardedPrometheus(`Bearer ${TOKEN}`, seen);
  const err = await failure(new PrometheusClient(url).query('up'));
  assert.equal(err.kind, 'auth');
  assert.equal(err.status, 401);
  assert.equal(err.message, `Prometheus at ${url} answered 401: it needs credentials; set them with "${SET_CREDENTIALS_TITLE}"`);

  const client = new PrometheusClient(url, { authorization: authorizationFor('bearer', TOKEN) });
  assert.deepEqual(await client.query('sum by (model) (rate(inferscope_inference_requests_total[4000ms]))'), [
    { metric: { model: 'digits' }, value: 7.5 },
    { metric: { model: 'iris' }, value: 2.5 },
  ]);
  assert.deepEqual(seen, [undefined, `Bearer ${TOKEN}`]);

  // Refused: 403, naming which credentials, never quoting them.
  const wrong = await failure(new PrometheusClient(url, { authorization: 'Bearer nope-nope' }).targets());
  assert.equal(wrong.kind, 'auth');
  assert.match(wrong.message, /answered 403: it refused the stored credentials; set them with "Inferscope: Set Fleet Prometheus Credentials…"$/);
  assert.ok(!wrong.message.includes('nope-nope'));
});

test('over HTTP: credentials are not sent on through a redirect', async () => {
  const seen: (string | undefined)[] = [];
  const elsewhere = await guardedPrometheus(`Bearer ${TOKEN}`, seen);
  const redirecting = createServer((req, res) => void res.writeHead(307, { location: `${elsewhere}${req.url}` }).end());
  servers.push(redirecting);
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
  const err = await failure(new PrometheusClient(url, { authorization: `Bearer ${TOKEN}` }).query('up'));
  assert.equal(err.status, 307);
  assert.match(err.message, /a redirect\): credentials are not sent on/);
  assert.deepEqual(seen, [], 'the redirect target saw nothing');
});

test('the fleet watcher: a 401 is its error (authFailed) until credentials are stored; then the replicas and the fleet rate', async () => {
  const url = await guardedPrometheus(`Bearer ${TOKEN}`);
  let stored: string | undefined;
  const asked: string[] = [];
  const watcher = new FleetWatcher({
    prometheusUrl: () => `${url}/`,
    credentials: async (u) => {
      asked.push(u);
      return stored;
    },
  });
  try {
    assert.equal(await watcher.refresh(), undefined);
    assert.equal(watcher.authFailed, true);
    assert.match(watcher.error!, /answered 401: it needs credentials; set them with "Inferscope: Set Fleet Prometheus Credentials…"/);
    assert.equal(watcher.requestsPerSecond, undefined);

    stored = authorizationFor('bearer', TOKEN);
    const rates: (number | undefined)[] = [];
    watcher.onDidChangeRate.event((r) => rates.push(r));
    const view = await watcher.credentialsChanged();
    assert.deepEqual(view?.replicas.map((r) => r.name), ['r0', 'r1']);
    assert.equal(watcher.error, undefined);
    assert.equal(watcher.authFailed, false);
    // The Metrics charts' requests query, summed over models.
    assert.equal(watcher.requestsPerSecond, 10);
    assert.deepEqual(rates, [10]);
    assert.deepEqual([...new Set(asked)], [url], 'credentials looked up by the URL without a trailing slash');
  } finally {
    watcher.dispose();
  }
});

test("the fleet watcher: the URL's userinfo is sent as Basic when none is stored, and shown nowhere", async () => {
  const expected = authorizationFor('basic', 'ann:hunter2');
  const seen: (string | undefined)[] = [];
  const url = await guardedPrometheus(expected, seen);
  const withUserinfo = url.replace('http://', 'http://ann:hunter2@');
  const watcher = new FleetWatcher({ prometheusUrl: () => withUserinfo, credentials: async () => undefined });
  try {
    const view = await watcher.refresh();
    assert.equal(view?.prometheusUrl, url, 'the fleet (and the canary source sent to the agents) names the URL without credentials');
    assert.equal(watcher.prometheus?.url, url);
    assert.ok(seen.length > 0 && seen.every((h) => h === expected), JSON.stringify(seen));
  } finally {
    watcher.dispose();
  }
  // A secret store that never answers (a locked keyring) or fails: the URL's own credentials are used.
  for (const credentials of [() => new Promise<undefined>(() => {}), () => Promise.reject(new Error('keyring locked'))]) {
    const logged: string[] = [];
    const w = new FleetWatcher({ prometheusUrl: () => withUserinfo, credentials, credentialsTimeoutMs: 20, log: (m) => logged.push(m) });
    try {
      assert.deepEqual((await w.refresh())?.replicas.map((r) => r.name), ['r0', 'r1']);
      assert.match(logged.join('\n'), /cannot read the stored Prometheus credentials: (no answer within 20 ms|keyring locked)/);
    } finally {
      w.dispose();
    }
  }
  // Refused: the message says which credentials and quotes neither them nor the setting.
  const refusing = await guardedPrometheus('Bearer other');
  const w2 = new FleetWatcher({ prometheusUrl: () => refusing.replace('http://', 'http://ann:hunter2@') });
  try {
    assert.equal(await w2.refresh(), undefined);
    assert.match(w2.error!, /answered 403: it refused the credentials in inferscope\.fleet\.prometheusUrl/);
    assert.ok(!w2.error!.includes('hunter2') && !w2.error!.includes('ann'), w2.error);
  } finally {
    w2.dispose();
  }
});
