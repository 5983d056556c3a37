// npm run soak — mixed traffic against one agent for 10 minutes (--minutes N): inference on every
// version, entity inference, metrics scrapes, status polls, event-stream clients that come and
// go, a canary every 2 minutes and a breaker trip every minute. Reports every unexpected answer,
// and the heap, RSS and handle slopes after warm-up.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_MODELS, startAgent, type AgentProcess } from '../test/helpers/agentProcess.js';
import { exampleRequest, request } from '../test/helpers/http.js';
import { SseClient } from '../test/helpers/sseClient.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);

function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

async function main(): Promise<void> {
  const repo = mkdtempSync(join(tmpdir(), 'inferscope-soak-'));
  cpSync(join(BUNDLED_MODELS, 'digits'), join(repo, 'digits'), { recursive: true });
  cpSync(join(BUNDLED_MODELS, 'digits', '1'), join(repo, 'digits', '3'), { recursive: true });
  const agent: AgentProcess = await startAgent({ args: ['--models', repo, '--enable-faults', '--log-level', 'warn', '--state-dir', join(repo, '.state')] });
  const started = Date.now();
  const end = started + minutes * 60_000;
  const unexpected: string[] = [];
  const counts = { inference: 0, entity: 0, scrapes: 0, status: 0, sse: 0, canaries: 0, trips: 0, injected: 0 };
  let faultOn = false;
  const note = (what: string, status: number, body: unknown) => {
    if (unexpected.length < 50) unexpected.push(`${what}: ${status} ${JSON.stringify(body).slice(0, 160)}`);
  };
  const alive = () => Date.now() < end;
  const loops: Promise<void>[] = [];

  for (let c = 0; c < 4; c++) {
    loops.push((async () => {
      for (let i = 0; alive(); i++) {
        const path = ['/v2/models/digits/infer', '/v2/models/digits/versions/1/infer', '/v2/models/digits/versions/2/infer'][i % 3]!;
        const r = await request<{ error?: string }>(`${agent.url}${path}`, { body: exampleRequest((c + i) % 10) });
        counts.inference++;
        const injected = (r.status === 500 && /injected fault/.test(r.body.error ?? '')) || (r.status === 503 && /circuit breaker/.test(r.body.error ?? ''));
        if (injected) counts.injected++;
        else if (r.status !== 200) note(path, r.status, r.body);
      }
    })());
  }
  loops.push((async () => {
    for (let i = 0; alive(); i++) {
      const r = await request(`${agent.url}/v2/models/digits/versions/1/infer`, { body: { parameters: { entities: [`digit-${i % 1996}`, `digit-${(i * 7) % 1996}`] } } });
      counts.entity++;
      if (r.status !== 200) note('entities', r.status, r.body);
    }
  })());
  const memory: { t: number; heap: number; rss: number; handles: number }[] = [];
  loops.push((async () => {
    while (alive()) {
      const text = (await request<string>(`${agent.url}/metrics`)).body;
      counts.scrapes++;
      const v = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
      const handles = [...text.matchAll(/^nodejs_active_handles\{type="[^"]+"\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
      memory.push({ t: (Date.now() - started) / 60_000, heap: v(/^nodejs_heap_size_used_bytes (\d+)/m), rss: v(/^process_resident_memory_bytes (\d+)/m), handles });
      await new Promise((r) => setTimeout(r, 5000));
    }
  })());
  loops.push((async () => {
    while (alive()) {
      const r = await request(`${agent.url}/api/v1/status`);
      counts.status++;
      if (r.status !== 200) note('status', r.status, r.body);
      await new Promise((r2) => setTimeout(r2, 1000));
    }
  })());
  loops.push((async () => {
    while (alive()) {
      const clients = await Promise.all([0, 1, 2].map(() => SseClient.connect(`${agent.url}/api/v1/events`)));
      counts.sse += clients.length;
      await new Promise((r) => setTimeout(r, 3000));
      for (const c of clients) c.close();
      await new Promise((r) => setTimeout(r, 1000));
    }
  })());
  loops.push((async () => {
    while (alive()) {
      await new Promise((r) => setTimeout(r, 60_000));
      if (!alive()) break;
      faultOn = true;
      await request(`${agent.url}/api/v1/faults/digits/2`, { method: 'PUT', body: { error_rate: 1 } });
      await new Promise((r) => setTimeout(r, 5000));
      await request(`${agent.url}/api/v1/faults/digits/2`, { method: 'DELETE' });
      await request(`${agent.url}/api/v1/models/digits/versions/2/breaker`, { body: { action: 'reset' } });
      faultOn = false;
      counts.trips++;
    }
  })());
  loops.push((async () => {
    for (let k = 0; alive(); k++) {
      await new Promise((r) => setTimeout(r, 20_000));
      if (!alive() || faultOn) continue;
      const status = (await request<{ models: { default_version: string }[] }>(`${agent.url}/api/v1/status`)).body;
      const base = status.models[0]!.default_version;
      const candidate = base === '3' ? '1' : '3';
      const r = await request<{ id: string }>(`${agent.url}/api/v1/canaries`, { body: { model: 'digits', candidate, steps: [50, 100], interval_s: 5, checks_per_step: 2, thresholds: { min_samples: 30 } } });
      if (r.status !== 201) note('canary start', r.status, r.body);
      else counts.canaries++;
      await new Promise((res) => setTimeout(res, 100_000));
    }
  })());
  await Promise.all(loops);
  const code = await agent.stop();

  const warm = memory.filter((m) => m.t >= Math.min(2, minutes / 5));
  const mib = (b: number) => b / 1024 / 1024;
  console.log(`soak ${minutes} min: ${JSON.stringify(counts)}`);
  console.log(`unexpected answers: ${unexpected.length}${unexpected.length ? `\n  ${unexpected.join('\n  ')}` : ''}`);
  console.log(`heap used: ${mib(warm[0]!.heap).toFixed(1)} → ${mib(warm.at(-1)!.heap).toFixed(1)} MiB, slope ${slope(warm.map((m) => [m.t, mib(m.heap)])).toFixed(2)} MiB/min after warm-up`);
  console.log(`RSS: ${mib(warm[0]!.rss).toFixed(1)} → ${mib(warm.at(-1)!.rss).toFixed(1)} MiB, slope ${slope(warm.map((m) => [m.t, mib(m.rss)])).toFixed(2)} MiB/min`);
  console.log(`active handles: ${warm[0]!.handles} → ${warm.at(-1)!.handles}, slope ${slope(warm.map((m) => [m.t, m.handles])).toFixed(2)}/min`);
  console.log(`agent exit code after SIGTERM: ${code}`);
}

void main();
