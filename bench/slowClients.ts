// npm run bench:slow — slow clients against a normal one (issue 16, item 1): while an attacker
// process holds connections open, the normal client's throughput and p99 (wrk, its own process)
// are compared with the same client on a quiet agent, in the same run:
//   - slowloris: 2,000 connections each sending a header line every 5 s and never finishing the
//     request, reconnecting when closed (the agent under a 1,024 open-file limit, as a default
//     shell gives it);
//   - slow bodies: 300 requests declaring an 8 MiB body, sending all but the last KiB, then stalling.
// With --compare <other build>/dist/agent/main.js the same scenarios run on that build first
// ("before"). Figures: the normal client's req/s, p50, p99 (and p99 / quiet p99), its errors, and
// the agent's peak RSS during the scenario.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { requireWrk, resetPeak, rssMiB, startChild, stop, waitReady, wrk, wrkScript, type WrkResult } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    loris: { type: 'string', default: '2000' },
    bodies: { type: 'string', default: '300' },
    nofile: { type: 'string', default: '1024' },
    compare: { type: 'string' },
  },
});
const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'inferscope-bench-slow-'));
const seconds = Number(values.seconds);
requireWrk('bench:slow');
const script = wrkScript(work, 'json', readFileSync(join(root, 'models', 'digits', 'examples', 'digit-7.json')), { 'Content-Type': 'application/json' });

interface Row {
  build: string;
  scenario: string;
  client: WrkResult;
  peakMiB: number;
  attacker?: { opened: number; closedByServer: number; answered: Record<string, number> };
}

function attack(mode: 'slowloris' | 'slowbody', port: number, count: number, forSeconds: number): Promise<Row['attacker']> {
  const proc = spawn(process.execPath, [join(root, 'bench', 'lib', 'slowAttacker.mjs'), mode, String(port), String(count), String(forSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolveStats) => proc.on('exit', () => resolveStats(out ? JSON.parse(out) : undefined)));
}

async function measure(build: string, main: string): Promise<Row[]> {
  // The agent under the open-file limit a default shell gives it: what slowloris exhausts.
  const agent = await startChild([main, '--port', '0', ...(build === 'after' ? ['--grpc-port', '0'] : []), '--log-level', 'error'], { prefix: ['bash', '-c', `ulimit -n ${values.nofile} && exec "$0" "$@"`] });
  const url = `http://127.0.0.1:${agent.port}/v2/models/digits/versions/1/infer`;
  const pid = agent.proc.pid!;
  const conns = Number(values.connections);
  const rows: Row[] = [];
  try {
    await waitReady(`http://127.0.0.1:${agent.port}/v2/health/ready`);
    wrk(url, script, 3, conns); // warm-up
    resetPeak(pid);
    rows.push({ build, scenario: 'quiet', client: wrk(url, script, seconds, conns), peakMiB: rssMiB(pid).peak });
    for (const [mode, count] of [['slowloris', Number(values.loris)], ['slowbody', Number(values.bodies)]] as const) {
      resetPeak(pid);
      const attacker = attack(mode, agent.port, count, seconds + 6);
      await new Promise((r) => setTimeout(r, 4000)); // let it build up
      const client = wrk(url, script, seconds, conns);
      const peakMiB = rssMiB(pid).peak;
      rows.push({ build, scenario: mode === 'slowloris' ? `slowloris (${count} conns)` : `slow bodies (${count} × 8 MiB)`, client, peakMiB, attacker: await attacker });
      await new Promise((r) => setTimeout(r, 2000)); // connections wind down
    }
  } finally {
    await stop(agent.proc);
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(`normal client: wrk -t1 -c${values.connections} -d${seconds}s, digits/1 JSON; agent under ulimit -n ${values.nofile}; ${cpus().length} CPUs, node ${process.version}`);
  const rows: Row[] = [];
  if (values.compare) rows.push(...(await measure('before', resolve(values.compare))));
  rows.push(...(await measure('after', join(root, 'dist', 'agent', 'main.js'))));
  console.log(`\n${'build'.padEnd(8)}${'scenario'.padEnd(28)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'p99/quiet'.padStart(10)}${'errors'.padStart(8)}${'peak RSS'.padStart(10)}  attacker`);
  for (const r of rows) {
    const quiet = rows.find((q) => q.build === r.build && q.scenario === 'quiet')!;
    const a = r.attacker ? `opened ${r.attacker.opened}, closed by the agent ${r.attacker.closedByServer}, answers ${JSON.stringify(r.attacker.answered)}` : '';
    console.log(
      `${r.build.padEnd(8)}${r.scenario.padEnd(28)}${r.client.rps.toFixed(0).padStart(8)}${r.client.p50ms.toFixed(2).padStart(9)}${r.client.p99ms.toFixed(2).padStart(9)}` +
        `${(r.client.p99ms / quiet.client.p99ms).toFixed(2).padStart(10)}${String(r.client.errors).padStart(8)}${`${r.peakMiB.toFixed(0)} MiB`.padStart(10)}  ${a}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
