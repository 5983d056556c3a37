// The dynamic batcher of one model version (after Triton's): requests queue, and are dispatched
// as batches to the version's inference instances.
//
// Dispatch rule, and why:
//  - Requests that arrive together are considered together: the dispatch decision runs once the
//    current callback and the promise continuations it set off have run (process.nextTick), not
//    once per arrival. Otherwise the first of a burst (e.g. 64 clients answered by one batch, all
//    sending again) would leave alone on the idle instance and the other 63 would wait for it:
//    batches of 1, 63, 1, 63...
//  - A batch goes as soon as an instance is idle and either (a) max_queue_delay_ms is 0, (b) the
//    oldest request has waited max_queue_delay_ms, or (c) the batch is full (max_batch_size rows,
//    or the largest preferred_batch_size). With a delay of 0 an idle instance never waits: at low
//    load a request runs at once; under load, requests pile up while every instance is busy, and
//    the next free instance takes them all (up to max_batch_size) — batches form by themselves.
//  - When every instance is busy but a *full* batch is already waiting, it is sent anyway (one
//    extra batch per instance, queued in the worker): the instance then starts it the moment it
//    finishes, without a round trip through the main thread. Only full batches are sent early,
//    so this never trades batch size for it.
//  - On a delay expiry with preferred sizes configured, the batch is cut to the largest preferred
//    size its requests can make; otherwise everything that fits goes.
//  - Requests are never split; requests whose non-batch dimensions or datatypes differ never share
//    a batch; the queue is FIFO by its oldest request.
// Queue policy: max_queue_size → QueueFullError at once; a deadline (default_timeout_ms, lowered
// per request) → DeadlineExceededError if it passes while queued; an aborted request is removed.
import { EventEmitter } from 'node:events';
import { CancelledError, DeadlineExceededError, InvalidInputError, ModelExecutionError, OutputTooLargeError, QueueFullError } from '../errors.js';
import type { WireTensor } from '../inference/tensorTypes.js';
import type { Clock, Timer } from '../time/clock.js';
import type { CancelSignal } from './cancellation.js';
import type { ReleaseReason } from '../../../common/api.js';
import { batchKey, concatFeeds, splitOutputs } from './batchTensors.js';

/** What the batcher runs batches on: the version's instance pool. */
export interface BatchRunner {
  /** Instances able to run a batch now (alive). */
  readonly size: number;
  /** `maxOutputElements`: the bound on any one output of the whole batch (0: none); `placed`: which instance took it, of how many. */
  run(feeds: Record<string, WireTensor>, outputNames: string[], maxOutputElements?: number, placed?: (instance: number, of: number) => void): Promise<Record<string, WireTensor>>;
}

export interface BatcherOptions {
  label: string;
  /** 0: the model has no batch dimension; every request runs alone. */
  maxBatchSize: number;
  maxQueueDelayMs: number;
  preferredBatchSizes: number[];
  /** 0: unbounded. */
  maxQueueSize: number;
  /** 0: no deadline. */
  defaultTimeoutMs: number;
  /** Most elements of one output of one request (0: no bound). */
  maxOutputElements?: number;
}

export interface BatchRequest {
  feeds: Record<string, WireTensor>;
  rows: number;
  outputNames: string[];
  /** Lowers the default deadline for this request (ms). */
  timeoutMs?: number;
  signal?: CancelSignal;
  /** The request's id in the request record (listed in its batch's record). */
  traceId?: string;
  /** Filled in by the batcher: when the request's batch was handed to an instance (clock ms). */
  dispatchedAt?: number;
  /** Filled in by the batcher: the batch it ran in, and when that batch's compute began and ended (clock ms). */
  batchId?: string;
  computeStartedAt?: number;
  computeEndedAt?: number;
  /** Filled in by the batcher when the pool numbers its instances: the one its batch ran on, of how many. */
  instance?: number;
  instances?: number;
}

/** setTimeout turns longer delays into 1 ms; no deadline or delay may exceed this. */
export const MAX_TIMER_MS = 2_147_483_647;

export type RejectReason = 'queue_full' | 'timeout' | 'cancelled';

export interface BatchEvent {
  /** "b<n>", unique in the process. */
  id: string;
  reason: ReleaseReason;
  /** Requests left in the queue when the batch left it. */
  queueDepth: number;
  /** The requests' trace ids, in batch order. */
  requestIds: string[];
  /** Clock ms when the batch was handed to an instance. */
  dispatchedAt: number;
  rows: number;
  requests: number;
  /** Joining the requests' inputs into the batch's tensors. */
  inputS: number;
  /** The run on an instance, including the hand-off to its worker thread and back. */
  inferS: number;
  /** Splitting the outputs back into per-request results. */
  outputS: number;
  /** inputS + inferS: what /metrics has always called compute time. */
  computeS: number;
  ok: boolean;
  /** Which of the version's instances ran it (0-based), of how many: when the pool says (CPU instances). */
  instance?: number;
  instances?: number;
}

interface Queued {
  req: BatchRequest;
  key: string;
  enqueuedAt: number;
  deadline?: Timer;
  onAbort?: () => void;
  resolve(outputs: Record<string, WireTensor>): void;
  reject(err: Error): void;
}

const RECENT_BATCHES = 32;

/** Batch ids, unique across the process's batchers. */
let batchCount = 0;

export class DynamicBatcher extends EventEmitter<{
  batch: [BatchEvent];
  dequeued: [queueS: number];
  rejected: [RejectReason];
}> {
  private queue: Queued[] = [];
  private inFlight = 0;
  private delayTimer: Timer | undefined;
  private pumpScheduled = false;
  private readonly recent: number[] = [];
  private readonly maxPreferred: number;

  constructor(
    private readonly runner: BatchRunner,
    private readonly opts: BatcherOptions,
    private readonly clock: Clock,
  ) {
    super();
    this.maxPreferred = Math.max(0, ...opts.preferredBatchSizes);
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get inFlightBatches(): number {
    return this.inFlight;
  }

  /** Row counts of the last batches, oldest first. */
  get recentBatchSizes(): number[] {
    return [...this.recent];
  }

  /** Throws QueueFullError (and counts it) when the queue is at max_queue_size. */
  checkCapacity(): void {
    if (this.opts.maxQueueSize > 0 && this.queue.length >= this.opts.maxQueueSize) {
      this.emit('rejected', 'queue_full');
      throw new QueueFullError(`the queue of ${this.opts.label} is full (${this.opts.maxQueueSize} requests); retry shortly`, 1);
    }
  }

  submit(req: BatchRequest): Promise<Record<string, WireTensor>> {
    if (req.signal?.aborted) return Promise.reject(new CancelledError('the client cancelled the request'));
    try {
      this.checkCapacity();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      const item: Queued = { req, key: batchKey(req.feeds, req.outputNames), enqueuedAt: this.clock.now(), resolve, reject };
      const timeout = effectiveTimeout(this.opts.defaultTimeoutMs, req.timeoutMs);
      if (timeout !== undefined) {
        const byClient = req.timeoutMs !== undefined && req.timeoutMs === timeout && timeout !== this.opts.defaultTimeoutMs;
        item.deadline = this.clock.setTimer(Math.min(timeout, MAX_TIMER_MS), () => {
          if (this.remove(item)) {
            this.emit('rejected', 'timeout');
            reject(new DeadlineExceededError(`the request waited in the queue of ${this.opts.label} past its ${timeout} ms deadline`, byClient));
          }
        });
      }
      if (req.signal) {
        item.onAbort = () => {
          if (this.remove(item)) {
            this.emit('rejected', 'cancelled');
            reject(new CancelledError('the client cancelled the request'));
          }
        };
        req.signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.queue.push(item);
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // nextTick runs once the current callback and every promise continuation it set off have run:
    // a burst (a batch's answers, and its clients sending again) is gathered before deciding,
    // without waiting for the event loop's next phase (setImmediate measured ~10% slower here).
    process.nextTick(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private capacity(): number {
    return Math.max(1, this.runner.size);
  }

  /** Removes a queued item (deadline or abort); false if it was already dispatched. */
  private remove(item: Queued): boolean {
    const i = this.queue.indexOf(item);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    this.detach(item);
    return true;
  }

  private detach(item: Queued): void {
    item.deadline?.cancel();
    if (item.onAbort) item.req.signal?.removeEventListener('abort', item.onAbort);
  }

  /** Dispatches what the rule allows; `onlyFull` sends full batches only (see `release`). */
  private pump(onlyFull = false): void {
    if (!onlyFull) {
      this.delayTimer?.cancel();
      this.delayTimer = undefined;
    }
    const capacity = this.capacity();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const group = this.collect(head);
      const rows = group.reduce((n, q) => n + q.req.rows, 0);
      const full = this.opts.maxBatchSize === 0 || rows >= this.opts.maxBatchSize || (this.maxPreferred > 0 && rows >= this.maxPreferred);
      if (onlyFull && !full) return;
      const idle = this.inFlight < capacity;
      if (!idle && !(full && this.inFlight < 2 * capacity)) return;
      const waited = this.clock.now() - head.enqueuedAt;
      if (!full && this.opts.maxQueueDelayMs > 0 && waited < this.opts.maxQueueDelayMs) {
        this.delayTimer = this.clock.setTimer(Math.min(this.opts.maxQueueDelayMs - waited, MAX_TIMER_MS), () => this.pump());
        return;
      }
      // A batch below max_batch_size is cut to the largest preferred size its requests can make.
      const batch = rows >= this.opts.maxBatchSize ? group : this.cutToPreferred(group);
      this.take(batch);
      this.dispatch(batch, this.reasonFor(full, idle, rows));
    }
  }

  /** Why the batch the pump is dispatching leaves now (see ReleaseReason). */
  private reasonFor(full: boolean, idle: boolean, rows: number): ReleaseReason {
    if (this.opts.maxBatchSize === 0) return 'unbatched';
    if (full && !idle) return 'full_to_busy_instance';
    if (rows >= this.opts.maxBatchSize) return 'max_batch_size';
    if (full) return 'preferred_size';
    return this.opts.maxQueueDelayMs > 0 ? 'max_queue_delay' : 'instance_idle';
  }

  /** Removes a batch from the queue; usually it is the queue's head, which is one splice. */
  private take(batch: Queued[]): void {
    if (batch.every((q, i) => this.queue[i] === q)) {
      this.queue.splice(0, batch.length);
      return;
    }
    const taken = new Set(batch);
    this.queue = this.queue.filter((q) => !taken.has(q));
  }

  /** The oldest request and the next ones with the same key that fit in one batch, in order. */
  private collect(head: Queued): Queued[] {
    if (this.opts.maxBatchSize === 0) return [head];
    const group: Queued[] = [];
    let rows = 0;
    for (const q of this.queue) {
      if (q.key !== head.key) continue;
      if (rows + q.req.rows > this.opts.maxBatchSize) break;
      group.push(q);
      rows += q.req.rows;
      if (rows === this.opts.maxBatchSize) break;
    }
    return group;
  }

  private cutToPreferred(group: Queued[]): Queued[] {
    if (this.maxPreferred === 0) return group;
    let best = 0;
    let rows = 0;
    group.forEach((q, i) => {
      rows += q.req.rows;
      if (this.opts.preferredBatchSizes.includes(rows)) best = i + 1;
    });
    return best > 0 ? group.slice(0, best) : group;
  }

  private dispatch(batch: Queued[], reason: ReleaseReason): void {
    this.inFlight++;
    const now = this.clock.now();
    for (const q of batch) {
      this.detach(q);
      q.req.dispatchedAt = now;
      this.emit('dequeued', (now - q.enqueuedAt) / 1000);
    }
    const release0 = { reason, queueDepth: this.queue.length, dispatchedAt: now };
    let released = false;
    // Frees the batch's slot as soon as the instance is done with it, and at once hands the
    // instance the next *full* batch, before this batch's requests are answered: answering them
    // (and their clients sending again) is main-thread work the instance need not wait for.
    // Partial batches wait for the next turn, so that the answered clients' new requests join.
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.pump(true);
    };
    void this.execute(batch, release0, release).finally(() => {
      release();
      this.schedulePump();
    });
  }

  /** Runs a batch; if the model fails it, bisects so that each request gets its own outcome. */
  private async execute(batch: Queued[], released: Pick<BatchEvent, 'reason' | 'queueDepth' | 'dispatchedAt'>, release?: () => void): Promise<void> {
    const rows = batch.map((q) => q.req.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    const id = `b${++batchCount}`;
    const started = this.clock.now();
    let joined = started;
    let outputs: Record<string, WireTensor>;
    let instance: number | undefined;
    let instances: number | undefined;
    const event = (ok: boolean, ran: number, split = ran): BatchEvent => {
      const [inputS, inferS, outputS] = [(joined - started) / 1000, (ran - joined) / 1000, (split - ran) / 1000];
      for (const q of batch) {
        q.req.batchId = id;
        q.req.computeStartedAt = started;
        q.req.computeEndedAt = split;
        if (instance !== undefined) [q.req.instance, q.req.instances] = [instance, instances];
      }
      const requestIds = batch.map((q) => q.req.traceId ?? '');
      const e: BatchEvent = { id, ...released, requestIds, rows: total, requests: batch.length, inputS, inferS, outputS, computeS: inputS + inferS, ok };
      if (instance !== undefined) [e.instance, e.instances] = [instance, instances];
      return e;
    };
    try {
      const feeds = this.opts.maxBatchSize === 0 ? batch[0]!.req.feeds : concatFeeds(batch.map((q) => q.req.feeds), total);
      joined = this.clock.now();
      // If every request's outputs are within the bound, the batch's are within this one; past
      // it, at least one request is over, and bisecting finds it.
      const bound = (this.opts.maxOutputElements ?? 0) * batch.length;
      outputs = await this.runner.run(feeds, batch[0]!.req.outputNames, bound, (i, of) => ([instance, instances] = [i, of]));
    } catch (err) {
      this.record(event(false, this.clock.now()));
      if (isolates(err) && batch.length > 1) {
        // One bad request must not fail the innocent ones: run the halves separately, one after
        // the other, inside this batch's slot (so isolation never exceeds the instance budget).
        const mid = Math.ceil(batch.length / 2);
        const half = () => ({ reason: 'bisect' as const, queueDepth: this.queue.length, dispatchedAt: this.clock.now() });
        await this.execute(batch.slice(0, mid), half());
        await this.execute(batch.slice(mid), half());
        return;
      }
      for (const q of batch) q.reject(err as Error);
      return;
    }
    const ran = this.clock.now();
    release?.();
    let parts: Record<string, WireTensor>[];
    try {
      parts = splitOutputs(outputs, rows);
    } catch (err) {
      this.record(event(false, ran));
      const e = new ModelExecutionError(`${this.opts.label}: ${(err as Error).message}`);
      for (const q of batch) q.reject(e);
      return;
    }
    this.record(event(true, ran, this.clock.now()));
    batch.forEach((q, i) => {
      const over = this.oversized(parts[i]!);
      if (over) q.reject(over);
      else q.resolve(parts[i]!);
    });
  }

  /** A request's share of a batch can be over the bound even when the batch is within its own. */
  private oversized(outputs: Record<string, WireTensor>): OutputTooLargeError | undefined {
    const bound = this.opts.maxOutputElements ?? 0;
    if (bound === 0) return undefined;
    for (const [name, t] of Object.entries(outputs)) {
      if (t.data.length > bound) {
        return new OutputTooLargeError(`${this.opts.label}: output '${name}' has ${t.data.length} elements [${t.dims.join(', ')}]; at most ${bound} are returned per request`);
      }
    }
    return undefined;
  }

  private record(e: BatchEvent): void {
    this.recent.push(e.rows);
    if (this.recent.length > RECENT_BATCHES) this.recent.shift();
    this.emit('batch', e);
  }
}

/** Failures that may belong to one request of a batch: the batch is bisected to find it. */
function isolates(err: unknown): boolean {
  return err instanceof ModelExecutionError || err instanceof OutputTooLargeError || err instanceof InvalidInputError;
}

function effectiveTimeout(defaultMs: number, requestMs: number | undefined): number | undefined {
  if (requestMs === undefined) return defaultMs > 0 ? defaultMs : undefined;
  return defaultMs > 0 ? Math.min(defaultMs, requestMs) : requestMs;
}
