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

/** Runs each size once per instance; false when the inputs cannot be synthesized (variable or string dims). */
export async function warmUp(runner: Runner, inputs: TensorMetadata[], outputs: TensorMetadata[], maxBatchSize: number, instances: number): Promise<boolean> {
  const rowDims = (t: TensorMetadata) => (maxBatchSize > 0 ? t.shape.slice(1) : t.shape);
  if (inputs.some((t) => t.datatype === 'BYTES' || rowDims(t).some((d) => d < 0))) return false;
  const outputNames = outputs.map((o) => o.name);
  for (const size of warmUpSizes(maxBatchSize)) {
    const feeds = () =>
      Object.fromEntries(
        inputs.map((t) => {
          const dims = maxBatchSize > 0 ? [size, ...rowDims(t)] : rowDims(t);
          const count = dims.reduce((a, b) => a * b, 1);
          return [t.name, { type: ortTypeOf(t.datatype), dims, data: codecFor(t.datatype).allocate(count) }];
        }),
      );
    await Promise.all(Array.from({ length: instances }, () => runner.run(feeds(), outputNames)));
  }
  return true;
}
