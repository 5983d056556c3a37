// Does a version that has served nothing answer as fast as one that has? A canary's candidate is
// exactly that version, and the latency test compares it with a baseline that served all along.
//
// Per round: a fresh agent, N requests to one version only (the "served" one), then requests that
// alternate between the two versions, one client, in blocks; per block the median of each and
// P(fresh slower) (the Mann-Whitney effect the canary's latency test uses: 0.5 = no difference;
// the canary fails latency above 0.56). Both orders in one run (v1 served, then v3 served), so a
// difference between the models themselves shows as opposite signs and cancels, and what is left
// is the served/fresh difference. Usage: npm run bench:warmth [-- --served 2000 --blocks 8]
import { parseArgs } from 'node:util';
import { startAgent } from '../test/helpers/agentProcess.js';

const { values } = parseArgs({ options: { served: { type: 'string', default: '2000' }, blocks: { type: 'string', default: '8' }, pairs: { type: 'string', default: '100' } } });
const SERVED = Number(values.served);
const BLOCKS = Number(values.blocks);
const PAIRS = Number(values.pairs);

const body = JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: new Array(784).fill(0.1) }] });

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
/** P(a random sample of `x` exceeds one of `y`), ties counting half. */
function pGreater(x: number[], y: number[]): number {
  let s = 0;
  for (const a of x) for (const b of y) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (x.length * y.length);
}

async function round(served: string, fresh: string): Promise<number[]> {
  const agent = await startAgent({ args: ['--log-level', 'warn'] });
  try {
    const call = async (v: string) => {
      const t = performance.now();
      const r = await fetch(`${agent.url}/v2/models/digits/versions/${v}/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`version ${v}: HTTP ${r.status}`);
      return performance.now() - t;
    };
    for (let i = 0; i < SERVED; i++) await call(served);
    const effects: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      const s: number[] = [];
      const f: number[] = [];
      for (let i = 0; i < PAIRS; i++) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2) {
          s.push(await call(served));
          f.push(await call(fresh));
        } else {
          f.push(await call(fresh));
          s.push(await call(served));
        }
      }
      const p = pGreater(f, s);
      effects.push(p);
      console.log(`  v${served} served ${SERVED}, block ${b + 1} (${PAIRS} pairs): v${served} ${median(s).toFixed(3)} ms, v${fresh} ${median(f).toFixed(3)} ms, P(fresh v${fresh} slower) ${p.toFixed(2)}`);
    }
    return effects;
  } finally {
    await agent.stop();
  }
}

async function main(): Promise<void> {
  const a = await round('1', '3');
  const b = await round('3', '1');
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  console.log(`\nP(fresh slower), mean over blocks: v3 fresh ${mean(a).toFixed(3)}, v1 fresh ${mean(b).toFixed(3)}; both orders ${mean([...a, ...b]).toFixed(3)} (0.5: no served/fresh difference)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
