// The seed algorithm, ported faithfully for comparison: the classic "collect until MAX_BATCH_SIZE
// or MAX_WAIT, then run" collector. One consumer loop: it takes the first queued item, waits up to
// MAX_WAIT for the batch to fill, runs the batch, waits for it, then starts over.
import type { BatchRunner } from '../../agent/src/batching/dynamicBatcher.js';
import { concatFeeds, splitOutputs } from '../../agent/src/batching/batchTensors.js';
import type { WireTensor } from '../../agent/src/inference/tensorTypes.js';

interface Item {
  feeds: Record<string, WireTensor>;
  resolve(o: Record<string, WireTensor>): void;
  reject(e: Error): void;
}

export class ClassicCollector {
  private queue: Item[] = [];
  private waiter: (() => void) | undefined;
  private running = false;

  constructor(
    private readonly runner: BatchRunner,
    private readonly maxBatchSize: number,
    private readonly maxWaitMs: number,
    private readonly outputNames: string[],
  ) {}

  submit(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ feeds, resolve, reject });
      this.waiter?.();
      if (!this.running) void this.loop();
    });
  }

  private nextArrival(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(t);
        this.waiter = undefined;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const deadline = performance.now() + this.maxWaitMs;
      while (this.queue.length < this.maxBatchSize) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        await this.nextArrival(left);
      }
      const batch = this.queue.splice(0, this.maxBatchSize);
      const rows = batch.map((b) => b.feeds[Object.keys(b.feeds)[0]!]!.dims[0]!);
      try {
        const out = await this.runner.run(concatFeeds(batch.map((b) => b.feeds), rows.reduce((a, b) => a + b, 0)), this.outputNames);
        splitOutputs(out, rows).forEach((o, i) => batch[i]!.resolve(o));
      } catch (err) {
        for (const b of batch) b.reject(err as Error);
      }
    }
    this.running = false;
  }
}
