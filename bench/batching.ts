// npm run bench:batching — in one process, on the demo model digits/2 with its configured
// instances and max_batch_size, closed-loop clients at concurrency 1, 8, 64, 256 for:
//   (a) no batching: each request runs alone on an instance
//   (b) the classic collector (seed algorithm): same max size, 50 ms max wait
//   (c) Inferscope's dynamic batcher, as configured for the model
//   (d) the limit: back-to-back runs of max_batch_size rows on the same instances, no queueing
// Prints items/s and p50/p99 latency per row, the ratios c/d and c/b, and checks the goals.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamicBatcher } from '../agent/src/batching/dynamicBatcher.js';
import { InstancePool } from '../agent/src/inference/instancePool.js';
import type { WireTensor } from '../agent/src/inference/tensorTypes.js';
import { silentLogger } from '../agent/src/log/logger.js';
import { parseModelConfig } from '../agent/src/repository/modelConfig.js';
import { systemClock } from '../agent/src/time/clock.js';
import { loadMnist } from '../scripts/lib/mnistData.js';
import { closedLoop, fmt, percentile, type LoadResult } from './lib/closedLoop.js';
import { ClassicCollector } from './seed/classicCollector.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,8,64,256' },
    version: { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const levels = values.concurrency!.split(',').map(Number);
const root = resolve(__dirname, '..');
const modelDir = join(root, 'models', 'digits');
const config = parseModelConfig(readFileSync(join(modelDir, 'config.json'), 'utf8'), 'config.json', 'digits');
const maxBatch = config.max_batch_size;
const instances = config.instance_count;

const samples = loadMnist().heldOut;
const one = (i: number): Record<string, WireTensor> => ({
  pixels: { type: 'float32', dims: [1, 784], data: samples[i % samples.length]!.pixels.slice() },
});
const full = (): Record<string, WireTensor> => {
  const data = new Float32Array(maxBatch * 784);
  for (let r = 0; r < maxBatch; r++) data.set(samples[r]!.pixels, r * 784);
  return { pixels: { type: 'float32', dims: [maxBatch, 784], data } };
};

interface Row {
  strategy: string;
  concurrency: number;
  /** Medians over the repetitions. */
  itemsPerS: number;
  p50: number;
  p99: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { pool } = await InstancePool.start({
    workerFile: join(root, 'dist', 'agent', 'inferenceWorker.js'),
    init: { modelPath: join(modelDir, values.version!, 'model.onnx'), provider: { name: 'cpu', options: {} }, intraOpThreads: config.intra_op_threads },
    count: instances,
    label: `digits/${values.version}`,
    logger: silentLogger,
  });
  const batcher = new DynamicBatcher(
    pool,
    {
      label: 'digits',
      maxBatchSize: maxBatch,
      maxQueueDelayMs: config.dynamic_batching?.max_queue_delay_ms ?? 0,
      preferredBatchSizes: config.dynamic_batching?.preferred_batch_size ?? [],
      maxQueueSize: 0,
      defaultTimeoutMs: 0,
    },
    systemClock,
  );
  const classic = new ClassicCollector(pool, maxBatch, 50, ['probs']);
  const out = ['probs'];
  const strategies: [string, (c: number, i: number) => Promise<number>][] = [
    ['a no batching', (c, i) => pool.run(one(c * 7919 + i), out).then(() => 1)],
    ['b classic collector', (c, i) => classic.submit(one(c * 7919 + i)).then(() => 1)],
    ['c inferscope batcher', (c, i) => batcher.submit({ feeds: one(c * 7919 + i), rows: 1, outputNames: out }).then(() => 1)],
  ];
  console.log(`digits/${values.version}: max_batch_size ${maxBatch}, ${instances} instance(s), ${config.intra_op_threads} intra-op thread(s); ` +
    `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}; ${reps} × ${seconds} s per cell, interleaved, medians`);
  strategies.push(['d limit', () => pool.run(full(), out).then(() => maxBatch)]);
  const rows: Row[] = [];
  for (const concurrency of levels) {
    const samplesOf = new Map<string, LoadResult[]>();
    // Strategies take turns within each repetition, so drift on a shared machine hits all alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const [strategy, call] of strategies) {
        // The limit keeps one batch per instance in flight: back to back, no queueing.
        const conc = strategy.startsWith('d') ? instances : concurrency;
        const r = await closedLoop({ concurrency: conc, seconds, warmupSeconds: 0.5, call });
        samplesOf.set(strategy, [...(samplesOf.get(strategy) ?? []), r]);
      }
    }
    for (const [strategy] of strategies) {
      const rs = samplesOf.get(strategy)!;
      rows.push({
        strategy,
        concurrency,
        itemsPerS: median(rs.map((r) => r.items / r.seconds)),
        p50: median(rs.map((r) => percentile(r.latenciesMs, 50))),
        p99: median(rs.map((r) => percentile(r.latenciesMs, 99))),
      });
    }
  }
  await pool.close();

  console.log('\nstrategy              conc   items/s   p50 ms   p99 ms');
  for (const r of rows) {
    console.log(`${r.strategy.padEnd(22)}${String(r.concurrency).padStart(4)}${fmt(r.itemsPerS, 0).padStart(10)}${fmt(r.p50).padStart(9)}${fmt(r.p99).padStart(9)}`);
  }
  console.log('\nconc   c/d items/s   c/b items/s   c/b p50   c p50 / a p50');
  const goals: string[] = [];
  for (const concurrency of levels) {
    const get = (s: string) => rows.find((r) => r.concurrency === concurrency && r.strategy.startsWith(s))!;
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(get) as [Row, Row, Row, Row];
    console.log(`${String(concurrency).padStart(4)}${fmt(c.itemsPerS / d.itemsPerS).padStart(14)}${fmt(c.itemsPerS / b.itemsPerS).padStart(14)}${fmt(c.p50 / b.p50).padStart(10)}${fmt(c.p50 / a.p50).padStart(16)}`);
    if (concurrency >= 2 * maxBatch * instances) goals.push(`${c.itemsPerS >= 0.9 * d.itemsPerS ? 'PASS' : 'FAIL'} conc ${concurrency}: c >= 0.9 d (${fmt(c.itemsPerS / d.itemsPerS)})`);
    if (concurrency === 1) goals.push(`${c.p50 <= 1.2 * a.p50 ? 'PASS' : 'FAIL'} conc 1: c p50 <= 1.2 a p50 (${fmt(c.p50 / a.p50)})`);
    goals.push(`${c.itemsPerS > b.itemsPerS && c.p50 < b.p50 ? 'PASS' : 'FAIL'} conc ${concurrency}: c beats b in throughput (${fmt(c.itemsPerS / b.itemsPerS)}x) and p50 (${fmt(c.p50 / b.p50)}x)`);
  }
  console.log(`\n${goals.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
