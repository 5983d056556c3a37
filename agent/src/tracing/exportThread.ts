// OpenTelemetry export off the main thread. The main thread only decides which requests are
// sampled (TraceSettings, which the trace setting routes change) and hands the finished records and
// batch events, a few dozen at a time, to one export thread (exportWorker.ts), where the spans are
// built, serialised to protobuf and sent. Building and sending cost ~16 µs of main-thread CPU per
// exported request in process (bench:records); the hand-over costs a few.
import { Worker } from 'node:worker_threads';
import type { RequestRecord } from '../../../common/api.js';
import type { BatchEvent } from '../batching/dynamicBatcher.js';
import type { LogFields } from '../log/logger.js';
import type { PhaseExport } from './otelExport.js';
import type { RequestExporter } from './requestLog.js';
import type { RequestTrace } from './requestTrace.js';
import { parseTraceparent } from './traceparent.js';
import type { TraceSettings } from './traceSettings.js';

/** What the main thread posts to the export thread (in arrays). */
export type ExportItem =
  | { k: 'request'; r: RequestRecord; at: number; tp?: string | string[] }
  | { k: 'unsampled'; batch: string }
  | { k: 'batch'; model: string; version: string; e: BatchEvent };

/** What the export thread posts back: a warning, a flush done, or how many items it has taken from an array. */
export type ExportReply = { k: 'warn'; message: string; fields?: LogFields } | { k: 'flushed'; id: number } | { k: 'taken'; n: number };

export interface ExportWorkerData {
  url?: string;
  serviceVersion: string;
  phases?: PhaseExport;
  timeOrigin: number;
  env: NodeJS.ProcessEnv;
}

export interface ExportThreadOptions extends Omit<ExportWorkerData, 'timeOrigin' | 'env'> {
  settings: TraceSettings;
  warn: (message: string, fields?: LogFields) => void;
  env?: NodeJS.ProcessEnv;
  /** Items buffered before a post (default 64), and the longest an item waits (default 25 ms). */
  maxItems?: number;
  maxDelayMs?: number;
  /**
   * Items handed over and not yet taken by the thread at most (default OTEL_BSP_MAX_QUEUE_SIZE or
   * 16,384, the processor's own queue): past it a starved or stuck thread costs dropped spans, not memory.
   */
  maxQueued?: number;
}

export class ExportThread implements RequestExporter {
  private readonly worker: Worker;
  private items: ExportItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushes = new Map<number, (sent: boolean) => void>();
  private nextFlush = 0;
  private readonly maxItems: number;
  private readonly maxDelayMs: number;
  private readonly maxQueued: number;
  /** Posted to the thread and not yet taken by it. */
  private queued = 0;
  private dropped = 0;
  private lastWarned = 0;
  /** The thread failed or exited: nothing more is handed over. */
  private dead = false;

  constructor(
    workerFile: string,
    private readonly opts: ExportThreadOptions,
  ) {
    this.maxItems = opts.maxItems ?? 64;
    this.maxDelayMs = opts.maxDelayMs ?? 25;
    const envQueue = Number((opts.env ?? process.env).OTEL_BSP_MAX_QUEUE_SIZE);
    this.maxQueued = opts.maxQueued ?? (Number.isFinite(envQueue) && envQueue > 0 ? envQueue : 16_384);
    const data: ExportWorkerData = {
      ...(opts.url ? { url: opts.url } : {}),
      serviceVersion: opts.serviceVersion,
      ...(opts.phases ? { phases: opts.phases } : {}),
      timeOrigin: performance.timeOrigin,
      // The SDK reads OTEL_* from the thread's environment: the agent's (or the test's) own.
      env: { ...(opts.env ?? process.env) },
    };
    this.worker = new Worker(workerFile, { workerData: data, env: data.env });
    this.worker.unref();
    this.worker.on('message', (m: ExportReply) => {
      if (m.k === 'warn') opts.warn(m.message, m.fields);
      else if (m.k === 'taken') this.queued -= m.n;
      else this.flushes.get(m.id)?.(true);
    });
    this.worker.on('error', (err) => {
      this.dead = true;
      opts.warn('OTLP trace export thread failed; no more traces are exported', { error: err.message });
    });
    this.worker.on('exit', () => {
      this.dead = true;
      for (const done of this.flushes.values()) done(false);
    });
  }

  /** Called where the answer was written: the export's own failure must never reach the request path. */
  request(r: RequestRecord, t: RequestTrace): void {
    try {
      if (this.opts.settings.sample(r.model, parseTraceparent(t.traceparent))) this.push({ k: 'request', r, at: t.receivedAt, ...(t.traceparent ? { tp: t.traceparent } : {}) });
      // Its batch waits for one request less; while the level is OFF no batch is handed over to wait.
      else if (r.batch_id !== undefined && this.opts.settings.canExport(r.model)) this.push({ k: 'unsampled', batch: r.batch_id });
    } catch (err) {
      this.fault('a request could not be handed to the export thread', err);
    }
  }

  batch(model: string, version: string, e: BatchEvent): void {
    try {
      // Only batches with a recorded request can be linked to.
      if (this.opts.settings.canExport(model) && e.requestIds.some(Boolean)) this.push({ k: 'batch', model, version, e });
    } catch (err) {
      this.fault('a batch could not be handed to the export thread', err);
    }
  }

  private push(item: ExportItem): void {
    if (this.dead) return;
    if (this.queued + this.items.length >= this.maxQueued) {
      this.dropped++;
      this.fault(`the export thread is ${this.queued} items behind; spans dropped`, undefined);
      return;
    }
    this.items.push(item);
    if (this.items.length >= this.maxItems) this.post();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.post(), this.maxDelayMs);
      this.timer.unref();
    }
  }

  private post(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0 || this.dead) return;
    const items = this.items;
    this.items = [];
    try {
      this.worker.postMessage(items);
      this.queued += items.length;
    } catch (err) {
      // Runs from a timer too: a throw here would end the agent.
      this.fault('records could not be handed to the export thread', err);
    }
  }

  /** At most one warning a minute: a collector or thread in trouble must not flood the log. */
  private fault(message: string, err: unknown): void {
    if (Date.now() - this.lastWarned < 60_000) return;
    this.lastWarned = Date.now();
    this.opts.warn(`OTLP trace export: ${message}`, { ...(err ? { error: (err as Error)?.message ?? String(err) } : {}), dropped: this.dropped });
  }

  /** Everything handed over so far is sent by the SDK (tests, shutdown); false when that did not happen in time. */
  flush(timeoutMs = 10_000): Promise<boolean> {
    this.post();
    if (this.dead) return Promise.resolve(false);
    const id = this.nextFlush++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      const done = (sent: boolean) => {
        clearTimeout(timer);
        this.flushes.delete(id);
        resolve(sent);
      };
      this.flushes.set(id, done);
      this.worker.postMessage({ flush: id });
    });
  }

  /**
   * Sends what is buffered (the agent's shutdown), waiting at most `timeoutMs`: a collector that
   * does not answer must not hold the agent's exit. Then ends the thread.
   */
  async shutdown(timeoutMs = 2000): Promise<void> {
    if (!(await this.flush(timeoutMs))) this.opts.warn('OTLP trace export: spans still unsent at shutdown were dropped', { waited_ms: timeoutMs, dropped: this.dropped });
    await this.worker.terminate();
  }
}
