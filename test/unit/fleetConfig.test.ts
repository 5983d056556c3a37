// The fleet's generated nginx and Prometheus configurations: what each route may retry, the
// passive health settings, SSE unbuffered, every replica scraped; and both files accepted by the
// real tools (`nginx -t`, `promtool check config`) where they are installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { load } from 'js-yaml';
import { INFER_ROUTE, nginxConfig, prometheusConfig } from '../../scripts/lib/fleetConfig.js';
import { requireBinary } from '../helpers/systemBinary.js';

const dir = mkdtempSync(join(tmpdir(), 'inferscope-fleetconf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const replicas = [
  { host: '127.0.0.1', port: 9101 },
  { host: '127.0.0.1', port: 9102 },
  { host: '127.0.0.1', port: 9103 },
];
const conf = nginxConfig({ prefix: dir, listenPort: 9100, grpcListenPort: 9200, replicas, grpcReplicas: replicas.map((r) => ({ ...r, port: r.port + 100 })) });

/** The body of the first block that starts with `header` (braces balanced). */
function block(text: string, header: string): string {
  const start = text.indexOf(header);
  assert.ok(start >= 0, `no block ${header}`);
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error(`unbalanced block ${header}`);
}

test('upstream: least_conn, every replica with passive health, keep-alive closed before the agent closes it', () => {
  const up = block(conf, 'upstream inferscope {');
  assert.match(up, /least_conn;/);
  for (const r of replicas) assert.match(up, new RegExp(`server ${r.host}:${r.port} max_fails=\\d+ fail_timeout=\\d+s;`));
  assert.match(up, /keepalive \d+;/);
  // The agent closes idle connections after 5 s; nginx must give them up first.
  assert.ok(Number(/keepalive_timeout (\d+)s;/.exec(up)![1]) < 5);
  assert.match(block(conf, 'server {'), /proxy_http_version 1\.1;[\s\S]*proxy_set_header Connection "";/);
});

test('only the inference routes resend POSTs (non_idempotent); control routes never do', () => {
  const infer = block(conf, `location ~ ${INFER_ROUTE} {`);
  assert.match(infer, /proxy_next_upstream error timeout http_503 non_idempotent;/);
  const rest = block(conf, 'location / {');
  assert.match(rest, /proxy_next_upstream error timeout http_503;/);
  assert.doesNotMatch(rest, /non_idempotent/);
  assert.equal(conf.match(/^\s*(proxy|grpc)_next_upstream [^;]*non_idempotent;/gm)!.length, 2, 'the HTTP inference route and the gRPC server, nothing else');
  assert.match(conf, new RegExp(`proxy_next_upstream_tries ${replicas.length};`));

  const route = new RegExp(INFER_ROUTE);
  for (const p of ['/v2/models/digits/infer', '/v2/models/digits/versions/2/infer']) assert.ok(route.test(p), p);
  for (const p of ['/v2/repository/models/digits/load', '/v2/models/digits/ready', '/api/v1/canaries', '/v2/models/digits/versions/2/infer/x', '/api/v1/models/digits/versions/1/breaker/open'])
    assert.ok(!route.test(p), p);
});

test('the SSE route is passed through unbuffered and held open', () => {
  const sse = block(conf, 'location = /api/v1/events {');
  assert.match(sse, /proxy_buffering off;/);
  assert.match(sse, /proxy_read_timeout 1h;/);
});

test('gRPC: an HTTP/2 listener balancing the replicas gRPC ports', () => {
  const up = block(conf, 'upstream inferscope_grpc {');
  for (const r of replicas) assert.match(up, new RegExp(`server ${r.host}:${r.port + 100} `));
  assert.match(conf, /listen 127\.0\.0\.1:9200 http2;/);
  assert.match(conf, /grpc_pass grpc:\/\/inferscope_grpc;/);
});

test('a fleet of none is refused', () => {
  assert.throws(() => nginxConfig({ prefix: dir, listenPort: 1, replicas: [] }), /at least one replica/);
});

test('prometheus: every replica scraped directly, labelled, with the token file', () => {
  const text = prometheusConfig({ replicas, tokenFile: '/x/token', scrapeIntervalS: 2, ruleFiles: ['/r/rules.yml'] });
  const y = load(text) as {
    global: { scrape_interval: string };
    rule_files: string[];
    scrape_configs: { job_name: string; authorization: { type: string; credentials_file: string }; static_configs: { targets: string[]; labels: { replica: string } }[] }[];
  };
  assert.equal(y.global.scrape_interval, '2s');
  assert.deepEqual(y.rule_files, ['/r/rules.yml']);
  const job = y.scrape_configs[0]!;
  assert.equal(job.job_name, 'inferscope'); // the alerts select job="inferscope"
  assert.deepEqual(job.authorization, { type: 'Bearer', credentials_file: '/x/token' });
  assert.deepEqual(
    job.static_configs.map((s) => [s.targets, s.labels.replica]),
    replicas.map((r, i) => [[`${r.host}:${r.port}`], `r${i}`]),
  );
});

const nginx = requireBinary('nginx', 'nginx');
test('nginx -t accepts the generated configuration', { skip: 'skip' in nginx ? nginx.skip : false }, () => {
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, nginxConfig({ prefix, listenPort: 9100, grpcListenPort: 9200, replicas, grpcReplicas: replicas }));
  const r = spawnSync((nginx as { path: string }).path, ['-t', '-p', prefix + '/', '-c', file, '-e', join(prefix, 'logs', 'error.log')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /test is successful/);
});

const promtool = requireBinary('promtool', 'prometheus');
test('promtool check config accepts the generated Prometheus configuration', { skip: 'skip' in promtool ? promtool.skip : false }, () => {
  const token = join(dir, 'token');
  writeFileSync(token, 'x'.repeat(32));
  const file = join(dir, 'prometheus.yml');
  const root = join(__dirname, '..', '..', 'deploy', 'prometheus');
  writeFileSync(file, prometheusConfig({ replicas, tokenFile: token, ruleFiles: [join(root, 'rules.yml'), join(root, 'alerts.yml')] }));
  const r = spawnSync((promtool as { path: string }).path, ['check', 'config', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
