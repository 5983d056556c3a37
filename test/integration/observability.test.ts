// The metric catalog, end to end: promtool accepts /metrics after breaker, cache and canary
// activity; the README table and /metrics name the same series; GPU series come from nvidia-smi
// (a stand-in serving output recorded on a real H200) and are absent without one; a real
// Prometheus loaded with the shipped config and rules scrapes the agent with its token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AgentStatus, Canary } from '../../common/api.js';
import { ROOT, startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { exampleRequest, request } from '../helpers/http.js';
import { PrometheusServer } from '../helpers/prometheusServer.js';
import { requireBinary } from '../helpers/systemBinary.js';

const promtool = requireBinary('promtool', 'prometheus');
const prometheusBin = requireBinary('prometheus', 'prometheus');
const TOKEN = 'observability-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const FIXTURES = join(ROOT, 'test', 'fixtures', 'nvidia-smi');
const dir = mkdtempSync(join(tmpdir(), 'inferscope-obs-'));
let agent: AgentProcess;

function config(extra: object): string {
  const file = join(dir, `agent-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ gpu_sample_interval_s: 1, ...extra }));
  return file;
}

before(async () => {
  agent = await startAgent({
    args: ['--config', config({ nvidia_smi: join(FIXTURES, 'fake-nvidia-smi') }), '--enable-faults', '--state-dir', join(dir, 'state')],
    env: { INFERSCOPE_TOKEN: TOKEN, FAKE_NVIDIA_SMI_FILE: join(FIXTURES, 'h200-single.csv') },
  });
  const post = (path: string, body: object, method = 'POST') => request(`${agent.url}${path}`, { method, body, headers: auth });
  // Traffic on every version, entity inference through the cache, a breaker trip, a canary.
  for (let i = 0; i < 5; i++) {
    await post('/v2/models/digits/versions/1/infer', exampleRequest(i));
    await post('/v2/models/digits/versions/2/infer', exampleRequest(i));
  }
  await post('/v2/models/digits/infer', { parameters: { entities: ['digit-1', 'digit-2', 'digit-1'] } });
  await post('/api/v1/faults/digits/2', { error_rate: 1 }, 'PUT');
  for (let i = 0; i < 6; i++) await post('/v2/models/digits/versions/2/infer', exampleRequest(i));
  await request(`${agent.url}/api/v1/faults/digits/2`, { method: 'DELETE', headers: auth });
  await post('/api/v1/models/digits/versions/2/breaker', { action: 'reset' });
  const canary = await post('/api/v1/canaries', { model: 'digits', candidate: '2', interval_s: 60 });
  await request(`${agent.url}/api/v1/canaries/${(canary.body as Canary).id}`, { method: 'DELETE', headers: auth });
});
after(async () => {
  await agent.stop();
});

const metricsText = async (a: AgentProcess = agent) => (await request<string>(`${a.url}/metrics`, { headers: auth })).body;
const typeNames = (text: string) => [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);

test('promtool check metrics accepts /metrics after breaker, cache and canary activity', { skip: 'skip' in promtool ? promtool.skip : false }, async () => {
  const text = await metricsText();
  for (const name of ['inferscope_breaker_transitions_total', 'inferscope_feature_cache_lookups_total', 'inferscope_canary_decisions_total', 'inferscope_gpu_memory_total_bytes']) {
    assert.ok(typeNames(text).includes(name), name);
  }
  const r = spawnSync((promtool as { path: string }).path, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout + r.stderr, '');
});

test('the README table and /metrics name the same series', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| `(inferscope_[a-z_]+)` \|/gm)].map((m) => m[1]!));
  const exposed = new Set(typeNames(await metricsText()).filter((n) => n.startsWith('inferscope_')));
  assert.deepEqual([...exposed].filter((n) => !documented.has(n)), [], 'on /metrics but not in the README');
  assert.deepEqual([...documented].filter((n) => !exposed.has(n)), [], 'in the README but not on /metrics');
  assert.ok(typeNames(await metricsText()).some((n) => n.startsWith('process_')));
});

test('GPU series come from nvidia-smi (output recorded on an H200), and the execution provider is a label', async () => {
  const text = await metricsText();
  assert.match(text, new RegExp(`inferscope_gpu_memory_total_bytes\\{gpu="0"\\} ${143771 * 1024 * 1024}`));
  assert.match(text, /inferscope_gpu_info\{gpu="0",name="NVIDIA H200",uuid="GPU-b933bfda-a37b-e33f-7525-a77efccb093e",mig_mode="Disabled"\} 1/);
  assert.match(text, /inferscope_gpu_power_watts\{gpu="0"\} 114\.54/);
  assert.match(text, /inferscope_model_info\{model="digits",version="1",provider="cpu"\} 1/);
  const status = (await request<AgentStatus>(`${agent.url}/api/v1/status`, { headers: auth })).body;
  assert.deepEqual([status.gpus.detected, status.gpus.message], [true, '1 GPU: NVIDIA H200']);
});

test('without nvidia-smi there are no GPU series and the status says "no GPU detected"', async () => {
  const bare = await startAgent({ args: ['--config', config({ nvidia_smi: join(dir, 'missing', 'nvidia-smi') })] });
  try {
    const text = await metricsText(bare);
    assert.doesNotMatch(text, /^inferscope_gpu_(utilization|memory|temperature|power|info)[^ ]* /m);
    const status = (await request<AgentStatus>(`${bare.url}/api/v1/status`)).body;
    assert.equal(status.gpus.detected, false);
    assert.match(status.gpus.message, /^no GPU detected \(.*missing\/nvidia-smi not found\)$/);
  } finally {
    await bare.stop();
  }
});

test('the shipped rules pass promtool check and promtool test', { skip: 'skip' in promtool ? promtool.skip : false }, () => {
  const p = (promtool as { path: string }).path;
  const cwd = join(ROOT, 'deploy', 'prometheus');
  const check = spawnSync(p, ['check', 'rules', 'rules.yml', 'alerts.yml'], { cwd, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = spawnSync(p, ['test', 'rules', 'rules.test.yml'], { cwd, encoding: 'utf8' });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
});

test('every series the rules and the dashboard name is in the catalog (or is a recording rule)', async () => {
  const exposed = new Set(typeNames(await metricsText()));
  const rules = readFileSync(join(ROOT, 'deploy', 'prometheus', 'rules.yml'), 'utf8') + readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');
  const recorded = new Set([...rules.matchAll(/record: (\S+)/g)].map((m) => m[1]!));
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'inferscope-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const exprs = [rules, ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))].join('\n');
  const named = new Set([...exprs.matchAll(/\b(inferscope[_:][a-z0-9_:]+)/g)].map((m) => m[1]!));
  const histogramBase = (n: string) => n.replace(/_(bucket|sum|count)$/, '');
  const unknown = [...named].filter((n) => !recorded.has(n) && !exposed.has(n) && !exposed.has(histogramBase(n)));
  assert.deepEqual(unknown, []);
  assert.ok(dashboard.panels.length >= 10);
});

test('a real Prometheus with the shipped config and rules scrapes the agent with its token', { skip: 'skip' in prometheusBin ? prometheusBin.skip : false }, async () => {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  const shipped = readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
  const prometheus = await PrometheusServer.fromConfig((prometheusBin as { path: string }).path, shipped, {
    target: `127.0.0.1:${agent.port}`,
    tokenFile,
    ruleFiles: [join(ROOT, 'deploy', 'prometheus', 'rules.yml'), join(ROOT, 'deploy', 'prometheus', 'alerts.yml')],
  });
  try {
    await waitFor(async () => (await prometheus.query('up{job="inferscope"} == 1')).length === 1, 20_000, () => prometheus.output);
    const before = Number((await prometheus.query('inferscope_inference_requests_total{model="digits",version="1",outcome="success"}'))[0]?.value[1] ?? 0);
    const sent = 40;
    for (let i = 0; i < sent; i++) await request(`${agent.url}/v2/models/digits/versions/1/infer`, { body: exampleRequest(i % 10), headers: auth });
    const target = (await request<string>(`${agent.url}/metrics`, { headers: auth })).body;
    const match = /inferscope_inference_requests_total\{model="digits",version="1",outcome="success"\} (\d+)/.exec(target);
    assert.ok(match, target.slice(0, 300));
    const onAgent = Number(match[1]);
    await waitFor(async () => Number((await prometheus.query('inferscope_inference_requests_total{model="digits",version="1",outcome="success"}'))[0]?.value[1]) === onAgent, 20_000);
    assert.equal(onAgent - before >= sent, true);
    const p50 = await prometheus.query('histogram_quantile(0.5, sum by (le) (rate(inferscope_inference_request_duration_seconds_bucket{model="digits",version="1"}[1m])))');
    const seconds = Number(p50[0]!.value[1]);
    assert.ok(seconds > 0 && seconds < 0.5, `p50 ${seconds} s`);
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: unknown[] }[] } };
    assert.deepEqual(rules.data.groups.map((g) => g.name).sort(), ['inferscope-alerts', 'inferscope-recording']);
  } finally {
    await prometheus.stop();
  }
});
