// npm run bench:overload — open-loop load at 10× the measured capacity for 30 s on a model made
// slow on purpose (max_batch_size 8, an injected 100 ms per batch, max_queue_size 64): the queue
// must stay bounded, the excess must get 503 + Retry-After quickly, admitted requests must keep a
// bounded p99, memory must stay bounded, and latency must come back when the load stops.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AgentStatus } from '../common/api.js';
import { BUNDLED_MODELS, startAgent } from '../test/helpers/agentProcess.js';
import { request } from '../test/helpers/http.js';
import { slowDigitsRepo } from '../test/helpers/tempRepo.js';
import { closedLoop, fmt, percentile } from './lib/closedLoop.js';
import { openLoop } from './lib/openLoop.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, factor: { type: 'string', default: '10' } } });
const seconds = Number(values.seconds);
const factor = Number(values.factor);

async function main(): Promise<void> {
  const repo = slowDigitsRepo(64, 2000);
  const agent = await startAgent({ args: ['--models', repo, '--enable-faults', '--log-level', 'warn'] });
  const body = readFileSync(join(BUNDLED_MODELS, 'digits', 'examples', 'digit-7.json'), 'utf8');
  const path = '/v2/models/digits/versions/1/infer';
  const infer = () => request(`${agent.url}${path}`, { rawBody: body, headers: { 'content-type': 'application/json' } });
  const rss = async () => Number(/^process_resident_memory_bytes (\d+)/m.exec((await request<string>(`${agent.url}/metrics`)).body)![1]);
  try {
    await request(`${agent.url}/api/v1/faults/digits/1`, { method: 'PUT', body: { latency_ms: 100 } });
    const quiet = await closedLoop({ concurrency: 1, seconds: 3, warmupSeconds: 0.5, call: () => infer().then(() => 1) });
    const capacity = await closedLoop({ concurrency: 32, seconds: 5, warmupSeconds: 1, call: () => infer().then((r) => (r.status === 200 ? 1 : 0)) });
    const cap = capacity.items / capacity.seconds;
    const rate = cap * factor;
    const rssBefore = await rss();
    let maxQueue = 0;
    let peakRss = rssBefore;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = (await request<AgentStatus>(`${agent.url}/api/v1/status`)).body;
        maxQueue = Math.max(maxQueue, s.models[0]!.versions[0]!.batching.queue_depth);
        peakRss = Math.max(peakRss, await rss());
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const answers = await openLoop({ port: agent.port, path, body, ratePerS: rate, seconds });
    polling = false;
    await poller;
    const after = await closedLoop({ concurrency: 1, seconds: 3, warmupSeconds: 1, call: () => infer().then(() => 1) });
    const rssAfter = await rss();

    const by = (pred: (a: (typeof answers)[number]) => boolean) => answers.filter(pred);
    const ok = by((a) => a.status === 200);
    const rejected = by((a) => a.status === 503);
    const other = by((a) => a.status !== 200 && a.status !== 503);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
    console.log(`capacity (closed loop, 32 clients): ${fmt(cap, 0)} req/s; quiet p50 ${fmt(percentile(quiet.latenciesMs, 50))} ms`);
    console.log(`offered ${fmt(rate, 0)} req/s (${factor}×) open loop for ${seconds} s: ${answers.length} requests`);
    console.log(`  admitted 200: ${ok.length} (${fmt(ok.length / seconds, 0)}/s), p50 ${fmt(percentile(ok.map((a) => a.ms), 50))} ms, p99 ${fmt(percentile(ok.map((a) => a.ms), 99))} ms`);
    console.log(`  rejected 503: ${rejected.length}, time to reject p50 ${fmt(percentile(rejected.map((a) => a.ms), 50))} ms, p99 ${fmt(percentile(rejected.map((a) => a.ms), 99))} ms; with Retry-After: ${rejected.filter((a) => a.retryAfter).length}`);
    console.log(`  other: ${JSON.stringify(other.reduce<Record<number, number>>((m, a) => ((m[a.status] = (m[a.status] ?? 0) + 1), m), {}))}`);
    console.log(`  queue depth max ${maxQueue} (max_queue_size 64)`);
    console.log(`  RSS before ${mb(rssBefore)}, peak ${mb(peakRss)}, after ${mb(rssAfter)}`);
    console.log(`after the load: p50 ${fmt(percentile(after.latenciesMs, 50))} ms (quiet before: ${fmt(percentile(quiet.latenciesMs, 50))} ms)`);
  } finally {
    await agent.stop();
  }
}

void main();
