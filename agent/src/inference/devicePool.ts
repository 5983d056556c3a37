// A version placed on a GPU provider: one session in the provider's device thread, and `slots`
// batches of the version that may wait on the device at once (its instance_count: the batcher
// hands over that many batches before it queues more itself). If the device thread dies, the
// session is loaded again on a fresh thread, under the same crash budget as CPU instances.
import { EventEmitter } from 'node:events';
import { ModelNotReadyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ProviderSpec } from '../repository/modelConfig.js';
import type { DeviceThread, DeviceThreads } from './deviceThread.js';
import { crashBudget } from './instancePool.js';
import type { WireTensor } from './tensorTypes.js';
import type { VersionPool } from './versionPool.js';
import type { LoadedInfo } from './workerInstance.js';

export interface DevicePoolOptions {
  threads: DeviceThreads;
  provider: ProviderSpec;
  modelPath: string;
  intraOpThreads: number;
  /** The version ("digits/2"): its session's name on the device. */
  label: string;
  slots: number;
  runTimeoutMs: number;
  logger: Logger;
  /** Hears the device time of each batch. */
  onBusy?: (ms: number) => void;
}

export class DevicePool extends EventEmitter<{ exhausted: [reason: string] }> implements VersionPool {
  private alive = true;
  private closed = false;
  private running = 0;
  private readonly budget = crashBudget();

  private constructor(
    private readonly opts: DevicePoolOptions,
    private thread: DeviceThread,
    /** The session's key on its thread. */
    private key: string,
  ) {
    super();
    this.watch(thread);
  }

  static async start(opts: DevicePoolOptions): Promise<{ pool: DevicePool; info: LoadedInfo }> {
    const thread = opts.threads.get(opts.provider.name);
    try {
      const { key, info } = await thread.load(opts.label, opts.modelPath, opts.provider, opts.intraOpThreads);
      return { pool: new DevicePool(opts, thread, key), info };
    } catch (err) {
      await opts.threads.release(opts.provider.name);
      throw err;
    }
  }

  get device(): string {
    return this.opts.provider.name;
  }

  get size(): number {
    return this.alive ? this.opts.slots : 0;
  }

  get inFlight(): number {
    return this.running;
  }

  async run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements = 0): Promise<Record<string, WireTensor>> {
    if (!this.alive) throw new ModelNotReadyError(`${this.opts.label} has no running session on ${this.device} (it is being loaded again)`, 1);
    this.running++;
    try {
      const r = await this.thread.run(this.key, feeds, outputNames, maxOutputElements, this.opts.runTimeoutMs);
      this.opts.onBusy?.(r.busyMs);
      return r.outputs;
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.alive = false;
    await this.thread.unload(this.key);
    await this.opts.threads.release(this.device);
  }

  private watch(thread: DeviceThread): void {
    thread.once('exit', (why) => {
      if (this.closed || thread !== this.thread) return;
      this.alive = false;
      void this.reload(why);
    });
  }

  private async reload(why: string): Promise<void> {
    const { label } = this.opts;
    const verdict = this.budget.crashed();
    if (verdict.giveUp) {
      this.opts.logger.error('giving up on the device session', { model: label, device: this.device, reason: verdict.reason });
      this.emit('exhausted', verdict.reason);
      return;
    }
    this.opts.logger.warn('device thread stopped; loading the version again', { model: label, device: this.device, why, in_ms: verdict.delayMs });
    await new Promise((r) => setTimeout(r, verdict.delayMs).unref());
    if (this.closed) return;
    const thread = this.opts.threads.get(this.device);
    try {
      const { key } = await thread.load(label, this.opts.modelPath, this.opts.provider, this.opts.intraOpThreads);
      if (this.closed) return void thread.unload(key);
      this.thread = thread;
      this.key = key;
      this.alive = true;
      this.watch(thread);
    } catch (err) {
      this.opts.logger.error('loading the version on its device again failed', { model: label, device: this.device, error: (err as Error).message });
      if (!this.closed) void this.reload((err as Error).message);
    }
  }
}
