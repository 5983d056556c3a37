// One inference instance: a worker thread that holds one ONNX Runtime session.
// Requests in flight when the worker dies are rejected with WorkerCrashedError, never left hanging.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { InvalidInputError, ModelExecutionError, OutputTooLargeError, WorkerCrashedError } from '../errors.js';
import type { WireTensor } from './tensorTypes.js';
import type { FromWorker, IoMetadata, ToWorker, WorkerInit } from './workerProtocol.js';

export interface LoadedInfo {
  provider: string;
  inputs: IoMetadata[];
  outputs: IoMetadata[];
}

interface Pending {
  resolve(outputs: Record<string, WireTensor>): void;
  reject(err: Error): void;
  watchdog?: NodeJS.Timeout;
  maxOutputElements: number;
}

export class WorkerInstance extends EventEmitter<{ exit: [unexpected: boolean] }> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  private alive = true;
  private exitCause: string | undefined;

  private constructor(
    workerFile: string,
    init: WorkerInit,
    private readonly label: string,
    private readonly runTimeoutMs = 0,
    private readonly onBusy?: (ms: number) => void,
  ) {
    super();
    this.worker = new Worker(workerFile, { workerData: init });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => {
      this.exitCause = err.message;
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  /** Starts a worker and resolves once its session is loaded. */
  static start(
    workerFile: string,
    init: WorkerInit,
    label: string,
    runTimeoutMs = 0,
    onBusy?: (ms: number) => void,
  ): Promise<{ instance: WorkerInstance; info: LoadedInfo }> {
    const instance = new WorkerInstance(workerFile, init, label, runTimeoutMs, onBusy);
    return new Promise((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new Error(`worker for ${label} exited with code ${code} while loading${instance.exitCause ? `: ${instance.exitCause}` : ''}`));
      instance.worker.once('exit', onExit);
      instance.worker.once('message', (m: FromWorker) => {
        instance.worker.off('exit', onExit);
        if (m.type === 'loaded') {
          resolve({
            instance,
            info: { provider: m.provider, inputs: m.inputs, outputs: m.outputs },
          });
        } else if (m.type === 'load_failed') {
          void instance.close();
          reject(new Error(m.message));
        }
      });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** `maxOutputElements`: an output with more elements fails the run with OutputTooLargeError (0: no bound). */
  run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements = 0): Promise<Record<string, WireTensor>> {
    if (!this.alive) return Promise.reject(new WorkerCrashedError(`inference instance of ${this.label} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, maxOutputElements };
      if (this.runTimeoutMs > 0) {
        // A session.run() that never returns would hold its batch forever: end the worker (the
        // pool replaces it) so that every request waiting on it gets an answer.
        pending.watchdog = setTimeout(() => {
          this.exitCause = `a run took longer than run_timeout_ms (${this.runTimeoutMs} ms)`;
          void this.worker.terminate();
        }, this.runTimeoutMs);
        pending.watchdog.unref();
      }
      this.pending.set(id, pending);
      const message: ToWorker = { type: 'run', id, feeds, outputNames, maxOutputElements };
      // Inputs are built fresh per request, so their buffers can be moved instead of copied.
      const transfer = new Set<ArrayBuffer>();
      for (const t of Object.values(feeds)) {
        if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
      }
      this.worker.postMessage(message, [...transfer]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private onMessage(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'run_failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.watchdog);
    this.onBusy?.(m.busyMs);
    if (m.type === 'result') p.resolve(m.outputs);
    else if (m.reason === 'input') p.reject(new InvalidInputError(`${this.label} refused the input: ${m.message}`));
    else if (m.reason === 'output_too_large') p.reject(new OutputTooLargeError(`${this.label}: ${m.message}; at most ${p.maxOutputElements} are returned per request`));
    else p.reject(new ModelExecutionError(`${this.label} failed to run: ${m.message}`));
  }

  private onExit(code: number): void {
    this.alive = false;
    const unexpected = !this.closing;
    const why = this.closing
      ? 'the agent is stopping the model'
      : `its worker thread exited (code ${code}${this.exitCause ? `: ${this.exitCause}` : ''})`;
    for (const p of this.pending.values()) {
      clearTimeout(p.watchdog);
      p.reject(new WorkerCrashedError(`${this.label} could not finish the request: ${why}`));
    }
    this.pending.clear();
    this.emit('exit', unexpected);
  }
}
