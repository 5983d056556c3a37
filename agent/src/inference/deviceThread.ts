// The main thread's side of one device thread (deviceWorker.ts): loads and unloads the sessions of
// the versions placed on a GPU provider, and runs their batches one at a time in the scheduler's
// fair order. If the thread dies, everything on it fails with WorkerCrashedError and the thread
// says so ('exit'); the registry then starts a fresh one for whoever loads next.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { InvalidInputError, ModelExecutionError, OutputTooLargeError, WorkerCrashedError } from '../errors.js';
import type { ProviderSpec } from '../repository/modelConfig.js';
import type { FromDevice, ToDevice } from './deviceProtocol.js';
import { DeviceScheduler } from './deviceScheduler.js';
import type { WireTensor } from './tensorTypes.js';
import type { LoadedInfo } from './workerInstance.js';

export interface DeviceRun {
  outputs: Record<string, WireTensor>;
  /** Time the device spent on the batch, as the device thread measured it. */
  busyMs: number;
}

interface PendingRun {
  /** The version the batch belongs to (messages). */
  label: string;
  resolve(run: DeviceRun): void;
  reject(err: Error): void;
  maxOutputElements: number;
  watchdog?: NodeJS.Timeout;
}

export class DeviceThread extends EventEmitter<{ exit: [reason: string] }> {
  private readonly worker: Worker;
  private readonly scheduler = new DeviceScheduler();
  private readonly runs = new Map<number, PendingRun>();
  private readonly loads = new Map<string, { resolve(info: LoadedInfo): void; reject(err: Error): void }>();
  private readonly unloads = new Map<string, () => void>();
  /**
   * Sessions loaded (or loading) here, by key, with the version each holds. A key is unique to one
   * load: a version reloaded from disk is warmed in a second session beside the one still serving.
   */
  private readonly labels = new Map<string, string>();
  private nextSession = 1;
  private nextId = 1;
  private alive = true;
  private closing = false;
  private exitCause: string | undefined;

  constructor(
    /** The provider's name: the device's label in metrics and status ("webgpu"). */
    readonly device: string,
    workerFile: string,
    env?: NodeJS.ProcessEnv,
  ) {
    super();
    this.worker = new Worker(workerFile, env ? { env } : {});
    this.worker.on('message', (m: FromDevice) => this.onMessage(m));
    this.worker.on('error', (err) => {
      this.exitCause = err.message;
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get sessions(): number {
    return this.labels.size;
  }

  /** The version a session holds, for messages. */
  private nameOf(key: string): string {
    return this.labels.get(key) ?? key;
  }

  /** Batches of `key` waiting for the device (not counting the one running). */
  waiting(key?: string): number {
    return this.scheduler.waiting(key);
  }

  /** Loads `label`'s model into a new session; resolves with the session's key (for run and unload). */
  load(label: string, modelPath: string, provider: ProviderSpec, intraOpThreads: number): Promise<{ key: string; info: LoadedInfo }> {
    if (!this.alive) return Promise.reject(new WorkerCrashedError(`the ${this.device} device thread is not running`));
    const key = `${label}#${this.nextSession++}`;
    this.labels.set(key, label);
    return new Promise((resolve, reject) => {
      this.loads.set(key, { resolve: (info) => resolve({ key, info }), reject });
      this.post({ type: 'load', key, modelPath, provider, intraOpThreads });
    });
  }

  /** Releases `key`'s session; its waiting batches are refused. */
  unload(key: string): Promise<void> {
    const label = this.labels.get(key);
    if (label === undefined) return Promise.resolve();
    this.labels.delete(key);
    this.scheduler.drop(key, new WorkerCrashedError(`${label} could not finish the request: the agent is stopping the model`));
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.unloads.set(key, resolve);
      this.post({ type: 'unload', key });
    });
  }

  /** Runs a batch of `key` when its turn comes; `runTimeoutMs` bounds the run itself (0: none). */
  run(key: string, feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements: number, runTimeoutMs: number): Promise<DeviceRun> {
    if (!this.alive) return Promise.reject(new WorkerCrashedError(`${this.nameOf(key)} is not running: the ${this.device} device thread ${this.exitCause ?? 'has stopped'}`));
    return this.scheduler.submit({
      owner: key,
      run: () =>
        new Promise<DeviceRun>((resolve, reject) => {
          if (!this.alive) return reject(new WorkerCrashedError(`${this.nameOf(key)} could not finish the request: the ${this.device} device thread has stopped`));
          const id = this.nextId++;
          const pending: PendingRun = { label: this.nameOf(key), resolve, reject, maxOutputElements };
          if (runTimeoutMs > 0) {
            // A run that never returns would hold the device for every version on it: end the
            // thread (everything on it fails and is reloaded) so that each request gets an answer.
            pending.watchdog = setTimeout(() => {
              this.exitCause = `a run of ${pending.label} took longer than run_timeout_ms (${runTimeoutMs} ms)`;
              void this.worker.terminate();
            }, runTimeoutMs);
            pending.watchdog.unref();
          }
          this.runs.set(id, pending);
          const transfer = new Set<ArrayBuffer>();
          for (const t of Object.values(feeds)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
          this.post({ type: 'run', key, id, feeds, outputNames, maxOutputElements }, [...transfer]);
        }),
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private post(message: ToDevice, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private onMessage(m: FromDevice): void {
    switch (m.type) {
      case 'loaded':
      case 'load_failed': {
        const load = this.loads.get(m.key);
        this.loads.delete(m.key);
        if (m.type === 'loaded') load?.resolve({ provider: this.device, inputs: m.inputs, outputs: m.outputs });
        else {
          this.labels.delete(m.key);
          load?.reject(new Error(m.message));
        }
        return;
      }
      case 'unloaded':
        this.unloads.get(m.key)?.();
        this.unloads.delete(m.key);
        return;
      case 'result':
      case 'run_failed': {
        const p = this.runs.get(m.id);
        if (!p) return;
        this.runs.delete(m.id);
        clearTimeout(p.watchdog);
        if (m.type === 'result') p.resolve({ outputs: m.outputs, busyMs: m.busyMs });
        else if (m.reason === 'input') p.reject(new InvalidInputError(`${p.label} refused the input: ${m.message}`));
        else if (m.reason === 'output_too_large') p.reject(new OutputTooLargeError(`${p.label}: ${m.message}; at most ${p.maxOutputElements} are returned per request`));
        else p.reject(new ModelExecutionError(`${p.label} failed to run on ${this.device}: ${m.message}`));
      }
    }
  }

  private onExit(code: number): void {
    this.alive = false;
    const why = this.closing ? 'the agent is stopping' : `the ${this.device} device thread exited (code ${code}${this.exitCause ? `: ${this.exitCause}` : ''})`;
    for (const p of this.runs.values()) {
      clearTimeout(p.watchdog);
      p.reject(new WorkerCrashedError(`${p.label} could not finish the request: ${why}`));
    }
    this.runs.clear();
    for (const [key, load] of this.loads) load.reject(new WorkerCrashedError(`${this.nameOf(key)} could not load: ${why}`));
    this.loads.clear();
    for (const done of this.unloads.values()) done();
    this.unloads.clear();
    for (const [key, label] of this.labels) this.scheduler.drop(key, new WorkerCrashedError(`${label} could not finish the request: ${why}`));
    this.labels.clear();
    this.emit('exit', why);
  }
}

/**
 * One device thread per GPU provider, started on the first load and ended when its last session
 * is unloaded (a provider that failed to load leaves no idle thread behind).
 */
export class DeviceThreads {
  private readonly threads = new Map<string, DeviceThread>();

  constructor(
    private readonly workerFile: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  /** The live thread of `device`, started if there is none. */
  get(device: string): DeviceThread {
    let thread = this.threads.get(device);
    if (!thread || !thread.isAlive) {
      thread = new DeviceThread(device, this.workerFile, this.env);
      const started = thread;
      started.once('exit', () => {
        if (this.threads.get(device) === started) this.threads.delete(device);
      });
      this.threads.set(device, started);
    }
    return thread;
  }

  /** Ends `device`'s thread if nothing is loaded on it. */
  async release(device: string): Promise<void> {
    const thread = this.threads.get(device);
    if (thread && thread.sessions === 0) {
      this.threads.delete(device);
      await thread.close();
    }
  }

  async close(): Promise<void> {
    const all = [...this.threads.values()];
    this.threads.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
