// Runs parseInferRequest(parseJson(body)) on a thread of its own for large JSON bodies: the main
// thread (HTTP, batching) is what limits the front door, while a core sits partly idle. A job
// costs the main thread a copy of the body and two messages, far less than the parse. If the
// thread dies, its jobs fail (500) and the next job starts a new one.
import { Worker } from 'node:worker_threads';
import { InvalidInputError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { InferTarget, ParsedInferRequest, RequestLimits } from '../protocol/parseInferRequest.js';
import type { ParseJob, ParseResult } from '../protocol/parserProtocol.js';

interface Pending {
  resolve(r: ParsedInferRequest): void;
  reject(e: Error): void;
  json: Buffer;
  target: Omit<InferTarget, 'url'>;
  url: InferTarget['url'];
  limits: RequestLimits;
}

/** Smaller bodies are parsed inline: below this the hand-off costs more than it saves. */
export const OFF_THREAD_MIN_BYTES = 2048;

export class ParserThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Ids of the targets the current thread has been sent. */
  private targetIds = new WeakMap<object, number>();
  private nextTargetId = 1;

  constructor(
    private readonly workerFile: string,
    private readonly logger: Logger,
  ) {}

  /**
   * `target` is the version's part of the target (the same object for every request to it: it
   * crosses to the thread once); `url` is the request's.
   */
  parse(json: Buffer, target: Omit<InferTarget, 'url'>, url: InferTarget['url'], limits: RequestLimits): Promise<ParsedInferRequest> {
    return new Promise((resolve, reject) => this.send({ resolve, reject, json, target, url, limits }));
  }

  private send(p: Pending): void {
    const worker = this.start();
    const id = this.nextId++;
    // A copy: the request's bytes may share an ArrayBuffer with other data (and are sent again
    // if the thread has forgotten the target).
    const body = new Uint8Array(p.json).buffer;
    let targetId = this.targetIds.get(p.target);
    const job: ParseJob = { id, body, targetId: targetId ?? 0, url: p.url };
    if (targetId === undefined) {
      job.targetId = targetId = this.nextTargetId++;
      job.target = { target: p.target, limits: p.limits };
      this.targetIds.set(p.target, targetId);
    }
    this.pending.set(id, p);
    worker.postMessage(job, [body]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile);
    worker.unref();
    worker.on('message', (r: ParseResult) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ('request' in r) p.resolve(r.request);
      else if ('unknownTarget' in r) {
        this.targetIds.delete(p.target);
        this.send(p);
      } else p.reject(r.invalid ? new InvalidInputError(r.error) : new Error(r.error));
    });
    worker.on('error', (err) => this.logger.error('request parser thread failed', { error: err.message }));
    worker.on('exit', (code) => {
      this.worker = undefined;
      this.targetIds = new WeakMap(); // a new thread knows none
      // Not a WorkerCrashedError: that would count against the model's breaker.
      for (const p of this.pending.values()) p.reject(new Error(`the request parser thread exited (code ${code})`));
      this.pending.clear();
      if (!this.closed) this.logger.warn('request parser thread exited; the next request starts a new one', { code });
    });
    this.worker = worker;
    return worker;
  }
}
