// The inference instances of one model version (Triton's instance group): `count` workers, each
// with its own session. A crashed worker is replaced; requests go to the least busy instance.
import { ModelNotReadyError } from '../errors.js';
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import type { WireTensor } from './tensorTypes.js';
import type { Placed, VersionPool } from './versionPool.js';
import { WorkerInstance, type LoadedInfo } from './workerInstance.js';
import type { WorkerInit } from './workerProtocol.js';

export interface InstancePoolOptions {
  workerFile: string;
  init: WorkerInit;
  count: number;
  label: string;
  logger: Logger;
  /** A run that takes longer ends its worker (0: no limit). */
  runTimeoutMs?: number;
  /** Hears the compute time of each batch. */
  onBusy?: (ms: number) => void;
}

/** Restarts stop after this many crashes within CRASH_WINDOW_MS (the language client's rule). */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 3 * 60_000;

/**
 * The restart rule of inference instances and device sessions: give up after MAX_CRASHES within
 * CRASH_WINDOW_MS; before that, back off a little more after each recent crash, so that a model
 * that crashes on every run does not spin the CPU restarting it.
 */
export function crashBudget(now: () => number = Date.now) {
  let crashes: number[] = [];
  return {
    crashed(): { giveUp: boolean; reason: string; delayMs: number } {
      const t = now();
      crashes = [...crashes.filter((c) => t - c < CRASH_WINDOW_MS), t];
      return {
        giveUp: crashes.length > MAX_CRASHES,
        reason: `its inference instances crashed ${crashes.length} times in ${CRASH_WINDOW_MS / 60_000} minutes; not restarting them`,
        delayMs: Math.min(5000, 100 * 2 ** (crashes.length - 1)),
      };
    },
  };
}

export class InstancePool extends EventEmitter<{ exhausted: [reason: string] }> implements VersionPool {
  private instances: WorkerInstance[] = [];
  /** Each instance's number in the pool (0 … count-1): a replacement takes its predecessor's. */
  private readonly slots = new Map<WorkerInstance, number>();
  private closed = false;
  private readonly budget = crashBudget();

  private constructor(private readonly opts: InstancePoolOptions) {
    super();
  }

  static async start(opts: InstancePoolOptions): Promise<{ pool: InstancePool; info: LoadedInfo }> {
    const pool = new InstancePool(opts);
    const started = await Promise.allSettled(
      Array.from({ length: opts.count }, () => WorkerInstance.start(opts.workerFile, opts.init, opts.label, opts.runTimeoutMs, opts.onBusy)),
    );
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((s) => s.instance.close()));
      throw failed.reason as Error;
    }
    for (const { instance } of ok) pool.adopt(instance);
    return { pool, info: ok[0]!.info };
  }

  get size(): number {
    return this.instances.length;
  }

  get inFlight(): number {
    return this.instances.reduce((n, i) => n + i.inFlight, 0);
  }

  run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements = 0, placed?: Placed): Promise<Record<string, WireTensor>> {
    let best: WorkerInstance | undefined;
    for (const instance of this.instances) {
      if (instance.isAlive && (!best || instance.inFlight < best.inFlight)) best = instance;
    }
    if (!best) return Promise.reject(new ModelNotReadyError(`${this.opts.label} has no running inference instance`, 1));
    placed?.(this.slots.get(best) ?? 0, this.opts.count);
    return best.run(feeds, outputNames, maxOutputElements);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = this.instances;
    this.instances = [];
    await Promise.all(all.map((i) => i.close()));
  }

  private adopt(instance: WorkerInstance): void {
    const taken = new Set(this.slots.values());
    let slot = 0;
    while (taken.has(slot)) slot++;
    this.slots.set(instance, slot);
    this.instances.push(instance);
    instance.once('exit', (unexpected) => {
      this.instances = this.instances.filter((i) => i !== instance);
      this.slots.delete(instance);
      if (unexpected && !this.closed) void this.replace();
    });
  }

  private async replace(): Promise<void> {
    const verdict = this.budget.crashed();
    if (verdict.giveUp) {
      this.opts.logger.error('giving up on inference instances', { model: this.opts.label, reason: verdict.reason });
      if (this.instances.length === 0) this.emit('exhausted', verdict.reason);
      return;
    }
    this.opts.logger.warn('inference instance crashed; starting a replacement', { model: this.opts.label, in_ms: verdict.delayMs });
    await new Promise((r) => setTimeout(r, verdict.delayMs).unref());
    if (this.closed) return;
    try {
      const { instance } = await WorkerInstance.start(this.opts.workerFile, this.opts.init, this.opts.label, this.opts.runTimeoutMs, this.opts.onBusy);
      if (this.closed) return void instance.close();
      this.adopt(instance);
    } catch (err) {
      this.opts.logger.error('replacement inference instance failed to start', { model: this.opts.label, error: (err as Error).message });
      if (!this.closed) void this.replace();
    }
  }
}
