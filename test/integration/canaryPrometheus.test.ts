// Canaries read from a real Prometheus scraping two agents (replicas of one service): each
// replica runs the same canary from PromQL over both replicas' series and reaches the same decision.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Canary } from '../../common/api.js';
import { loadMnist } from '../../scripts/lib/mnistData.js';
import { digitsRepo } from '../helpers/tempRepo.js';
import { startAgent, waitFor, type AgentProcess } from '../helpers/agentProcess.js';
import { request } from '../helpers/http.js';
import { PrometheusServer } from '../helpers/prometheusServer.js';
import { freePort } from '../helpers/processes.js';
import { requireBinary } from '../helpers/systemBinary.js';

const promBin = requireBinary('prometheus', 'prometheus');
const skip = 'skip' in promBin ? promBin.skip : false;
const repo = digitsRepo(undefined, { twinOf1: '3' });
let agents: AgentProcess[] = [];
let prometheus: PrometheusServer;
const configDir = mkdtempSync(join(tmpdir(), 'inferscope-promconf-'));

before(async () => {
  if (skip) return;
  // Agents read only the Prometheus their config lists, so Prometheus comes first, scraping the
  // ports the agents will take.
  const ports = [await freePort(), await freePort()];
  prometheus = await PrometheusServer.start((promBin as { path: string }).path, ports.map((p) => `127.0.0.1:${p}`));
  const config = join(configDir, 'agent.json');
  writeFileSync(config, JSON.stringify({ prometheus_urls: [prometheus.url] }));
  agents = await Promise.all(
    ports.map((port) =>
      startAgent({ args: ['--models', repo, '--enable-faults', '--port', String(port), '--config', config, '--state-dir', mkdtempSync(join(tmpdir(), 'inferscope-promstate-'))] }),
    ),
  );
  await waitFor(async () => (await prometheus.query('up{job="inferscope"} == 1')).length === 2, 20_000, () => prometheus.output);
});
after(async () => {
  for (const a of agents) await a.stop();
  await prometheus?.stop();
  rmSync(repo, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

// Many distinct digits, not the 10 examples: with 10 inputs, the versions' confidence samples are
// 10 discrete values in proportions the random split decides, and an identical candidate could be
// "less confident" by which digits it happened to get (seen: P(lower) 0.57 from composition alone).
const DIGITS = loadMnist().heldOut.slice(0, 500).map((d) => ({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: Array.from(d.pixels) }] }));

function traffic(clientsPerAgent = 3): { stop(): Promise<void> } {
  let running = true;
  const loops = agents.flatMap((a, k) =>
    Array.from({ length: clientsPerAgent }, async (_, c) => {
      for (let i = 0; running; i++) await request(`${a.url}/v2/models/digits/infer`, { body: DIGITS[(k * 97 + c * 31 + i * 7) % DIGITS.length] }).catch(() => undefined);
    }),
  );
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function canaryOnBoth(candidate: string): Promise<Canary[]> {
  const body = {
    model: 'digits',
    candidate,
    steps: [50, 100],
    interval_s: 3,
    checks_per_step: 2,
    thresholds: { min_samples: 30, max_inconclusive_checks: 6 },
    source: { kind: 'prometheus', url: prometheus.url },
  };
  const started = await Promise.all(agents.map((a) => request<Canary>(`${a.url}/api/v1/canaries`, { body })));
  for (const s of started) assert.equal(s.status, 201, JSON.stringify(s.body));
  const ids = started.map((s) => s.body.id);
  const get = (i: number) => request<Canary>(`${agents[i]!.url}/api/v1/canaries/${ids[i]}`).then((r) => r.body);
  await waitFor(async () => (await get(0)).state !== 'running' && (await get(1)).state !== 'running', 60_000);
  return Promise.all([get(0), get(1)]);
}

test('a candidate failing 30% of requests on every replica is rolled back by both, from PromQL', { skip }, async () => {
  for (const a of agents) await request(`${a.url}/api/v1/faults/digits/2`, { method: 'PUT', body: { error_rate: 0.3 } });
  const load = traffic();
  const [a, b] = await canaryOnBoth('2');
  await load.stop();
  for (const a2 of agents) await request(`${a2.url}/api/v1/faults/digits/2`, { method: 'DELETE' });
  for (const c of [a!, b!]) {
    assert.equal(c.state, 'rolled_back', `${c.reason}`);
    assert.match(c.reason!, /^error_rate: candidate error rate/);
    assert.equal(c.checks.at(-1)!.step, 0);
    // Both replicas' traffic was counted: more than either agent alone served to the candidate.
    const em = c.checks.at(-1)!.metrics.find((m) => m.name === 'error_rate')!;
    assert.ok(em.candidate! > 0.15 && em.candidate! < 0.45, JSON.stringify(em));
  }
});

test('an identical candidate is promoted by both replicas, from PromQL', { skip }, async () => {
  const load = traffic();
  const [a, b] = await canaryOnBoth('3');
  await load.stop();
  for (const c of [a!, b!]) {
    assert.equal(c.state, 'promoted', `${c.reason} ${JSON.stringify(c.checks.map((k) => k.metrics.filter((m) => m.verdict !== 'pass').map((m) => m.reason)))}`);
    assert.deepEqual(c.source, { kind: 'prometheus', url: prometheus.url });
  }
  const latency = a!.checks[0]!.metrics.find((m) => m.name === 'latency')!;
  assert.notEqual(latency.p_value, null, 'latency was compared from histogram buckets');
});
