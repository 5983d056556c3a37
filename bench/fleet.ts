// npm run bench:fleet — what a fleet costs and rests on, measured in one run with the load from a
// separate process (wrk: one thread, --connections connections):
//   - one agent straight (digits/1, JSON, models/digits/examples/digit-7.json): requests/s;
//   - the same agent through nginx (the fleet's generated config, one replica): nginx's overhead;
//   - entity inference (parameters.entities) with the feature cache off (ttl_ms 0), so every
//     request reads Redis: requests/s, and the agent's own Redis fetch time per request
//     (inferscope_feature_source_fetch_duration_seconds), next to a bare GET round trip from Node.
// Rounds alternate direct and nginx so that a noisy neighbour hurts both alike; the median counts.
// With --replicas 2 the nginx figure is for two replicas (on a 2-core machine they share the cores).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { FEATURE_PREFIX, Fleet } from '../scripts/lib/fleet.js';
import { median, requireWrk, wrk, wrkScript, type WrkResult } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '1' },
  },
});
requireWrk('bench:fleet');
const root = resolve(__dirname, '..');
const seconds = Number(values.seconds);
const conns = Number(values.connections);
const rounds = Number(values.rounds);

async function metric(url: string, auth: Record<string, string>, name: string): Promise<number> {
  // Retried once: the agent closes idle keep-alive connections after 5 s, and fetch may just have picked one.
  const get = async () => (await fetch(`${url}/metrics`, { headers: auth })).text();
  const text = await get().catch(get);
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[2]);
  return sum;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferscope-bench-fleet-'));
  const fleet = await Fleet.start({ replicas: Number(values.replicas), dir, featureTtlMs: 0, scrapeIntervalS: 15 });
  try {
    const auth = fleet.authHeaders;
    const headers = { ...auth, 'content-type': 'application/json' };
    const path = '/v2/models/digits/versions/1/infer';
    const pixels = wrkScript(dir, 'pixels', readFileSync(join(root, 'models', 'digits', 'examples', 'digit-7.json')), headers);
    // Entity requests cycle through every demo entity, so concurrent requests rarely share a lookup.
    const ids = (JSON.parse(readFileSync(join(root, 'models', 'digits', 'features', 'index.json'), 'utf8')) as { ids: string[] }).ids;
    const entity = join(dir, 'entity.lua');
    writeFileSync(
      entity,
      [
        'wrk.method = "POST"',
        ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
        `local ids = {${ids.map((id) => JSON.stringify(id)).join(',')}}`,
        'local i = 0',
        'request = function() i = i + 1; return wrk.format(nil, nil, nil, \'{"parameters":{"entities":["\' .. ids[i % #ids + 1] .. \'"]}}\') end',
      ].join('\n'),
    );
    const direct = fleet.replicaUrl(0);
    const lb = fleet.state.lbUrl;

    wrk(direct + path, pixels, 2, conns); // warm-up
    wrk(lb + path, pixels, 2, conns);
    const d: WrkResult[] = [];
    const n: WrkResult[] = [];
    for (let r = 0; r < rounds; r++) {
      d.push(wrk(direct + path, pixels, seconds, conns));
      n.push(wrk(lb + path, pixels, seconds, conns));
    }

    const fetchesBefore = await metric(direct, auth, 'inferscope_feature_source_fetch_duration_seconds_count');
    const fetchSumBefore = await metric(direct, auth, 'inferscope_feature_source_fetch_duration_seconds_sum');
    const e = wrk(direct + path, entity, seconds, conns);
    const fetches = (await metric(direct, auth, 'inferscope_feature_source_fetch_duration_seconds_count')) - fetchesBefore;
    const fetchSum = (await metric(direct, auth, 'inferscope_feature_source_fetch_duration_seconds_sum')) - fetchSumBefore;

    const client = new Redis(fleet.state.redisUrl);
    const N = 2000;
    await client.get(`${FEATURE_PREFIX}digit-3`);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await client.getBuffer(`${FEATURE_PREFIX}digit-3`);
    const rttUs = Number(process.hrtime.bigint() - t0) / 1000 / N;
    client.disconnect();

    const md = (xs: WrkResult[], k: keyof WrkResult) => median(xs.map((x) => x[k]));
    const row = (label: string, xs: WrkResult[]) =>
      `${label.padEnd(34)} ${md(xs, 'rps').toFixed(0).padStart(8)} req/s   p50 ${md(xs, 'p50ms').toFixed(2).padStart(6)} ms   p99 ${md(xs, 'p99ms').toFixed(2).padStart(6)} ms   errors ${xs.reduce((a, x) => a + x.errors, 0)}`;
    const dr = md(d, 'rps');
    const nr = md(n, 'rps');
    console.log(
      [
        `bench:fleet — ${cpus().length} CPUs, ${Number(values.replicas)} replica(s), wrk -t1 -c${conns}, ${rounds} rounds of ${seconds} s (median), digits/1 JSON`,
        row('one agent, direct', d),
        row(`through nginx (${values.replicas} replica(s))`, n),
        `nginx / direct: ${(nr / dr).toFixed(2)}×   (per request: ${((1 / nr - 1 / dr) * 1e6 * conns).toFixed(0)} µs more at ${conns} in flight; ${((1 / nr - 1 / dr) * 1e6).toFixed(1)} µs of machine time)`,
        row('entity, cache off (Redis each)', [e]),
        `Redis: ${fetches} fetches by the agent for ${Math.round(e.rps * seconds)} requests, mean ${fetches ? ((fetchSum / fetches) * 1e6).toFixed(0) : '—'} µs each (inside the agent, under load); bare GET from Node, sequential: ${rttUs.toFixed(0)} µs`,
        `entity / pixels (direct): ${(e.rps / dr).toFixed(2)}×`,
      ].join('\n'),
    );
  } finally {
    await fleet.down();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack, (err as { cause?: unknown }).cause);
  process.exit(1);
});
