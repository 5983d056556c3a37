// The order in which one device runs the batches of the versions placed on it. A device runs one
// batch at a time (ONNX Runtime keeps one WebGPU context per process, and runs on it from two
// threads crash the process); the versions' batchers hand batches in whenever they like. Policy:
// round robin over the versions that have a batch waiting, first in, first out within a version:
// a version with many batches queued waits its turn like one with a single batch, so no version
// starves another, and each gets an equal share of the turns (not of the time: a version whose
// batches take longer gets more device time; the busy-time metric shows it). Knows nothing of
// threads: `execute` runs one job and settles when the device is free again.

export interface DeviceJob<T> {
  /** The version the job belongs to ("digits/2"). */
  owner: string;
  run(): Promise<T>;
}

interface Waiting {
  run(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class DeviceScheduler {
  /** Queues by owner, in the order owners take turns (Map keeps insertion order). */
  private readonly queues = new Map<string, Waiting[]>();
  /** The owner whose batch ran last; the next turn goes to the owner after it. */
  private last: string | undefined;
  private busy = false;

  /** Runs `job` when its owner's turn comes; settles as the job does. */
  submit<T>(job: DeviceJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let queue = this.queues.get(job.owner);
      if (!queue) this.queues.set(job.owner, (queue = []));
      queue.push({ run: job.run, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Batches waiting (not running) for `owner`, or for every owner. */
  waiting(owner?: string): number {
    if (owner !== undefined) return this.queues.get(owner)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  get running(): boolean {
    return this.busy;
  }

  /** Forgets `owner`, rejecting its waiting batches (its version was unloaded, its device died). */
  drop(owner: string, err: Error): void {
    const queue = this.queues.get(owner);
    this.queues.delete(owner);
    for (const w of queue ?? []) w.reject(err);
  }

  /** The owner whose turn is next: the first with a batch waiting after `last`, wrapping around. */
  private nextOwner(): string | undefined {
    const owners = [...this.queues.keys()];
    const after = this.last === undefined ? -1 : owners.indexOf(this.last);
    for (let k = 1; k <= owners.length; k++) {
      const owner = owners[(after + k) % owners.length]!;
      if (this.queues.get(owner)!.length > 0) return owner;
    }
    return undefined;
  }

  private pump(): void {
    if (this.busy) return;
    const owner = this.nextOwner();
    if (owner === undefined) return;
    const job = this.queues.get(owner)!.shift()!;
    this.last = owner;
    this.busy = true;
    let settled: Promise<unknown>;
    try {
      settled = job.run();
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled.then(job.resolve, job.reject).finally(() => {
      this.busy = false;
      this.pump();
    });
  }
}
