// npm run bench:breaker — per-call overhead of a closed circuit breaker around an async call:
// the bare call, Inferscope's breaker (admit + record, with the clock reads slow-call detection
// needs), opossum (default options, and with its per-call timeout off) and cockatiel
// (ConsecutiveBreaker), measured in the same run, interleaved, medians of ns/call.
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import Opossum from 'opossum';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_BREAKER_SETTINGS } from '../agent/src/resilience/breakerSettings.js';
import { CircuitBreaker } from '../agent/src/resilience/circuitBreaker.js';
import { systemClock } from '../agent/src/time/clock.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '300000' }, reps: { type: 'string', default: '5' } } });
const calls = Number(values.calls);
const reps = Number(values.reps);

let sink = 0;
const work = async (): Promise<number> => ++sink;

const ours = new CircuitBreaker('bench/1', DEFAULT_BREAKER_SETTINGS, systemClock);
const opossumDefault = new Opossum(work, {});
const opossumNoTimeout = new Opossum(work, { timeout: false });
const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });

const contenders: [string, () => Promise<unknown>][] = [
  ['bare call', () => work()],
  [
    'inferscope breaker',
    async () => {
      const ticket = ours.admit();
      const started = performance.now();
      try {
        const r = await work();
        ticket.record('success', performance.now() - started);
        return r;
      } catch (err) {
        ticket.record('failure', performance.now() - started);
        throw err;
      }
    },
  ],
  [
    'inferscope breaker, no clock reads',
    async () => {
      const ticket = ours.admit();
      try {
        const r = await work();
        ticket.record('success', 0);
        return r;
      } catch (err) {
        ticket.record('failure', 0);
        throw err;
      }
    },
  ],
  ['cockatiel ConsecutiveBreaker', () => cockatiel.execute(work)],
  ['opossum (timeout off)', () => opossumNoTimeout.fire()],
  ['opossum (defaults, 10 s timeout)', () => opossumDefault.fire()],
];

async function measure(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / calls;
}

async function main(): Promise<void> {
  console.log(`${calls} sequential calls per run, ${reps} runs interleaved; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
  for (const [, fn] of contenders) await measure(fn); // warm up every path first
  const samples = new Map<string, number[]>();
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of contenders) samples.set(name, [...(samples.get(name) ?? []), await measure(fn)]);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bare = median(samples.get('bare call')!);
  const oursNs = median(samples.get('inferscope breaker')!);
  console.log(`\n${'contender'.padEnd(34)} ns/call   overhead ns   ×bare   ×inferscope`);
  for (const [name] of contenders) {
    const ns = median(samples.get(name)!);
    console.log(`${name.padEnd(34)}${ns.toFixed(0).padStart(8)}${(ns - bare).toFixed(0).padStart(14)}${(ns / bare).toFixed(2).padStart(8)}${(ns / oursNs).toFixed(2).padStart(14)}`);
  }
  opossumDefault.shutdown();
  opossumNoTimeout.shutdown();
}

void main();
