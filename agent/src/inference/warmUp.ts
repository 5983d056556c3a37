// Warm-up (Triton's model_warmup): a new session's first runs at each batch size are slow (memory
// arenas, kernel selection). Running zero-filled batches before the version is marked ready keeps
// that cost off the first users, and off a canary's first latency samples.
import type { TensorMetadata } from '../../../common/api.js';
import { codecFor, ortTypeOf, type WireTensor } from './tensorTypes.js';

interface Runner {
  run(feeds: Record<string, WireTensor>, outputNames: string[]): Promise<unknown>;
}

/** Batch sizes to warm: powers of two up to max_batch_size, and max_batch_size itself. */
export function warmUpSizes(maxBatchSize: number): number[] {
  if (maxBatchSize <= 0) return [0];
  const sizes: number[] = [];
  for (let n = 1; n < maxBatchSize; n *= 2) sizes.push(n);
  sizes.push(maxBatchSize);
  return sizes;
}

export interface WarmUpOptions {
  maxBatchSize: number;
  instances: number;
  /** Sizes whose batch would hold more elements in one input are skipped: no request that large can come. */
  maxElements: number;
  /** Hears the feeds of each run that succeeded. */
  ran?: (feeds: Record<string, WireTensor>) => void;
}

/**
 * Runs each size once per instance; false when the inputs cannot be synthesized (variable or
 * string dims). A run that fails rejects: the caller decides what a failed warm-up means.
 */
export async function warmUp(runner: Runner, inputs: TensorMetadata[], outputs: TensorMetadata[], opts: WarmUpOptions): Promise<boolean> {
  const { maxBatchSize } = opts;
  const rowDims = (t: TensorMetadata) => (maxBatchSize > 0 ? t.shape.slice(1) : t.shape);
  if (inputs.some((t) => t.datatype === 'BYTES' || rowDims(t).some((d) => d < 0))) return false;
  const rowElements = Math.max(1, ...inputs.map((t) => rowDims(t).reduce((a, b) => a * b, 1)));
  const sizes = warmUpSizes(maxBatchSize).filter((size) => Math.max(1, size) * rowElements <= opts.maxElements);
  if (sizes.length === 0) return false;
  const outputNames = outputs.map((o) => o.name);
  for (const size of sizes) {
    const feeds = () =>
      Object.fromEntries(
        inputs.map((t) => {
          const dims = maxBatchSize > 0 ? [size, ...rowDims(t)] : rowDims(t);
          const count = dims.reduce((a, b) => a * b, 1);
          return [t.name, { type: ortTypeOf(t.datatype), dims, data: codecFor(t.datatype).allocate(count) }];
        }),
      );
    const runs = Array.from({ length: opts.instances }, () => feeds());
    await Promise.all(runs.map((f) => runner.run(f, outputNames)));
    for (const f of runs) opts.ran?.(f);
  }
  return true;
}
