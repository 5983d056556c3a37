// Triton's statistics extension (GET /v2/models[/{m}[/versions/{v}]]/stats): per version, the
// count and total nanoseconds of successful and failed requests, queueing and compute, and the
// same per batch size. Fed by the same events as /metrics (the inference service's outcomes and
// the batchers' dequeue and batch events), so the two always agree.
import type { BatchEvent, DynamicBatcher } from '../batching/dynamicBatcher.js';
import type { InferenceOutcome } from './agentMetrics.js';

export interface StatDuration {
  count: number;
  ns: number;
}

export interface ModelStatistics {
  name: string;
  version: string;
  /** Epoch ms of the last request answered; 0 before any. */
  last_inference: number;
  /** Rows inferred successfully (a batch of 8 rows counts 8). */
  inference_count: number;
  /** Batches run. */
  execution_count: number;
  inference_stats: {
    success: StatDuration;
    fail: StatDuration;
    queue: StatDuration;
    compute_input: StatDuration;
    compute_infer: StatDuration;
    compute_output: StatDuration;
    cache_hit: StatDuration;
    cache_miss: StatDuration;
  };
  batch_stats: { batch_size: number; compute_input: StatDuration; compute_infer: StatDuration; compute_output: StatDuration }[];
}

const zero = (): StatDuration => ({ count: 0, ns: 0 });
const add = (d: StatDuration, count: number, seconds: number): void => {
  d.count += count;
  d.ns += Math.round(seconds * 1e9);
};

interface BatchSizeStats {
  compute_input: StatDuration;
  compute_infer: StatDuration;
  compute_output: StatDuration;
}

class VersionStatistics {
  lastInference = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = zero();
  readonly fail = zero();
  readonly queue = zero();
  readonly computeInput = zero();
  readonly computeInfer = zero();
  readonly computeOutput = zero();
  readonly bySize = new Map<number, BatchSizeStats>();

  onBatch(e: BatchEvent): void {
    if (!e.ok) return;
    this.executionCount++;
    this.inferenceCount += e.rows;
    // Per request (inference_stats), each request is charged its whole batch's time, as Triton does.
    add(this.computeInput, e.requests, e.inputS * e.requests);
    add(this.computeInfer, e.requests, e.inferS * e.requests);
    add(this.computeOutput, e.requests, e.outputS * e.requests);
    let size = this.bySize.get(e.rows);
    if (!size) this.bySize.set(e.rows, (size = { compute_input: zero(), compute_infer: zero(), compute_output: zero() }));
    add(size.compute_input, 1, e.inputS);
    add(size.compute_infer, 1, e.inferS);
    add(size.compute_output, 1, e.outputS);
  }
}

export class InferenceStatistics {
  private readonly versions = new Map<string, { model: string; version: string; stats: VersionStatistics }>();

  constructor(private readonly now: () => number = Date.now) {}

  private of(model: string, version: string): VersionStatistics {
    const key = `${model}/${version}`;
    let entry = this.versions.get(key);
    if (!entry) this.versions.set(key, (entry = { model, version, stats: new VersionStatistics() }));
    return entry.stats;
  }

  /** A version that loaded has statistics (all zero) before its first request, as in Triton. */
  addVersion(model: string, version: string): void {
    this.of(model, version);
  }

  onInference(o: InferenceOutcome): void {
    const stats = this.of(o.model, o.version);
    add(o.outcome === 'success' ? stats.success : stats.fail, 1, o.durationS);
    stats.lastInference = this.now();
  }

  /** Subscribes to a version's batcher (again after a reload: the new batcher adds to the same figures). */
  observeBatcher(model: string, version: string, batcher: DynamicBatcher): void {
    const stats = this.of(model, version);
    batcher.on('dequeued', (s) => add(stats.queue, 1, s));
    batcher.on('batch', (e) => stats.onBatch(e));
  }

  /** Triton's `model_stats`, for every version, one model, or one version. */
  snapshot(model?: string, version?: string): ModelStatistics[] {
    const out: ModelStatistics[] = [];
    for (const e of this.versions.values()) {
      if ((model !== undefined && e.model !== model) || (version !== undefined && e.version !== version)) continue;
      const s = e.stats;
      out.push({
        name: e.model,
        version: e.version,
        last_inference: s.lastInference,
        inference_count: s.inferenceCount,
        execution_count: s.executionCount,
        inference_stats: {
          success: { ...s.success },
          fail: { ...s.fail },
          queue: { ...s.queue },
          compute_input: { ...s.computeInput },
          compute_infer: { ...s.computeInfer },
          compute_output: { ...s.computeOutput },
          // The agent has no response cache: Triton reports these as zero then.
          cache_hit: zero(),
          cache_miss: zero(),
        },
        batch_stats: [...s.bySize.entries()]
          .sort(([a], [b]) => a - b)
          .map(([batch_size, d]) => ({ batch_size, compute_input: { ...d.compute_input }, compute_infer: { ...d.compute_infer }, compute_output: { ...d.compute_output } })),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
  }
}
