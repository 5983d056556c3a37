// The Prometheus allowlist: which canary URLs name a configured server, and what the agent keeps.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Canary } from '../../common/api.js';
import { CanaryStore } from '../../agent/src/canary/canaryStore.js';
import { PrometheusAllowlist } from '../../agent/src/canary/prometheusUrls.js';
import { canonicalPrometheusUrl, parsePrometheusUrl, prometheusUrlProblem, withoutCredentials } from '../../common/prometheusUrl.js';
import { agentConfigSchema, defaultAgentConfig, finalizeAgentConfig } from '../../agent/src/config/agentConfig.js';
import { InvalidInputError } from '../../agent/src/errors.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('canonical form: scheme, lower-case host, port (default dropped), path without trailing slash', () => {
  const c = (s: string) => canonicalPrometheusUrl(new URL(s));
  assert.equal(c('http://127.0.0.1:9090'), 'http://127.0.0.1:9090');
  assert.equal(c('http://127.0.0.1:9090/'), 'http://127.0.0.1:9090');
  assert.equal(c('HTTP://Prometheus.Example:9090/prom/'), 'http://prometheus.example:9090/prom');
  assert.equal(c('http://prom:80/'), 'http://prom');
  assert.equal(c('https://prom:443/x'), 'https://prom/x');
  assert.equal(c('http://u:p@prom:9090'), 'http://prom:9090');
});

test('a configured entry: http(s) base URL, no query or fragment; credentials become a Basic header', () => {
  assert.equal(prometheusUrlProblem('http://prom:9090'), undefined);
  assert.equal(prometheusUrlProblem('https://user:pa%40ss@prom:9090/sub/'), undefined);
  assert.match(prometheusUrlProblem('ftp://prom')!, /http\(s\)/);
  assert.match(prometheusUrlProblem('prom:9090')!, /http\(s\)/);
  assert.match(prometheusUrlProblem('http://prom:9090/?x=1')!, /query or fragment/);
  assert.match(prometheusUrlProblem('http://prom:9090#')!, /query or fragment/);
  assert.match(prometheusUrlProblem('http://prom:9090\\@evil')!, /http\(s\)/);
  assert.match(prometheusUrlProblem('http://prom :9090')!, /http\(s\)/);
  assert.deepEqual(parsePrometheusUrl('http://prom:9090/'), { url: 'http://prom:9090' });
  const t = parsePrometheusUrl('https://user:pa%40ss@prom:9090/sub/');
  assert.equal(t.url, 'https://prom:9090/sub');
  assert.equal(Buffer.from(t.authorization!.replace(/^Basic /, ''), 'base64').toString(), 'user:pa@ss');
});

test('the agent config takes prometheus_urls, refuses bad entries without echoing them', () => {
  assert.deepEqual(defaultAgentConfig('/m').prometheus_urls, []);
  const ok = agentConfigSchema.partial().safeParse({ prometheus_urls: ['http://u:p@prom:9090', 'http://other:9090/x'] });
  assert.ok(ok.success);
  const bad = (urls: string[]) => {
    try {
      finalizeAgentConfig({ ...defaultAgentConfig('/m'), prometheus_urls: urls });
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('accepted');
  };
  const secretBad = bad(['http://user:hunter2-secret@prom:9090/?q']);
  assert.match(secretBad, /prometheus_urls\.0.*query or fragment/);
  assert.doesNotMatch(secretBad, /hunter2/);
  assert.match(bad(['ftp://x']), /prometheus_urls\.0/);
  const twice = bad(['http://a:s3cret@prom:9090', 'http://prom:9090/']);
  assert.match(twice, /lists http:\/\/prom:9090 twice/);
  assert.doesNotMatch(twice, /s3cret/);
});

test('a canary URL must name a configured server: same scheme, host, port and path', () => {
  const list = new PrometheusAllowlist(['http://127.0.0.1:9090', 'https://user:pw@prom.example/sub/']);
  assert.deepEqual(list.urls, ['http://127.0.0.1:9090', 'https://prom.example/sub']);
  assert.deepEqual(list.resolve('http://127.0.0.1:9090'), { url: 'http://127.0.0.1:9090' });
  assert.deepEqual(list.resolve('http://127.0.0.1:9090/'), { url: 'http://127.0.0.1:9090' });
  const sub = list.resolve('https://PROM.example:443/sub/');
  assert.equal(sub.url, 'https://prom.example/sub');
  assert.match(sub.authorization!, /^Basic /);
  const refused = (url: string) => assert.throws(() => list.resolve(url), InvalidInputError, url);
  for (const url of [
    'http://127.0.0.1:9091', // another port
    'http://127.0.0.2:9090', // another host
    'https://127.0.0.1:9090', // another scheme
    'http://127.0.0.1:9090/api/v1/admin', // another path
    'https://prom.example', // the configured one has a path
    'https://prom.example/sub/more',
    'http://evil.example/x#', // the `#` trick: the agent's /api/v1/query would become a fragment
    'http://127.0.0.1:9090#', // a fragment on an allowed URL is refused too
    'http://127.0.0.1:9090/?', // so is an (empty) query
    'http://127.0.0.1:9090@evil.example', // userinfo: the host is evil.example
    'http://evil.example@127.0.0.1:9090', // userinfo on an allowed host
    'http://127.0.0.1:9090\\@evil.example',
    'not a url',
  ]) {
    refused(url);
  }
});

test('refusals say what is allowed and how to allow more, without echoing credentials', () => {
  const list = new PrometheusAllowlist(['http://u:topsecret@prom:9090']);
  const message = (url: string) => {
    try {
      list.resolve(url);
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('accepted');
  };
  const other = message('http://other:9090');
  assert.match(other, /"http:\/\/other:9090" is not an allowed Prometheus URL/);
  assert.match(other, /allowed: http:\/\/prom:9090;/);
  assert.match(other, /prometheus_urls/);
  assert.doesNotMatch(other, /topsecret/);
  const creds = message('http://u:my-password@prom:9090');
  assert.match(creds, /must not carry credentials/);
  assert.doesNotMatch(creds, /my-password|topsecret/);
  assert.match(message('http://prom:9090#x'), /without a query or fragment/);
  const off = new PrometheusAllowlist([]);
  assert.throws(() => off.resolve('http://prom:9090'), /Prometheus sources are off on this agent.*`prometheus_urls`/);
});

test('credentials are stripped from stored canaries, including state written by older agents', () => {
  assert.equal(withoutCredentials('http://u:p@prom:9090/'), 'http://prom:9090');
  assert.equal(withoutCredentials('http://prom:9090/'), 'http://prom:9090/');
  assert.equal(withoutCredentials('http://u:p@bad host/'), 'http://bad host/');
  // Unparsable with a `/` in the password, or without a scheme: the userinfo goes all the same.
  assert.equal(withoutCredentials('http://u:se/cret@bad host/'), 'http://bad host/');
  assert.equal(withoutCredentials('u:secret@bad host'), 'bad host');
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-promurls-'));
  dirs.push(dir);
  const canary = (id: string, url: string) => ({ id, model: 'm', state: 'rolled_back', checks: [], source: { kind: 'prometheus', url } }) as unknown as Canary;
  writeFileSync(join(dir, 'canaries.json'), JSON.stringify({ canaries: [canary('c-old', 'http://admin:old-secret@prom:9090')], defaults: {} }));
  const store = new CanaryStore(dir);
  assert.deepEqual(store.canaries[0]!.source, { kind: 'prometheus', url: 'http://prom:9090' });
  assert.doesNotMatch(readFileSync(join(dir, 'canaries.json'), 'utf8'), /old-secret/);
  store.save(canary('c-new', 'http://admin:new-secret@prom:9090'));
  assert.doesNotMatch(readFileSync(join(dir, 'canaries.json'), 'utf8'), /secret/);
});
