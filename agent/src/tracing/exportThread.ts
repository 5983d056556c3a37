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

/** What the export thread posts back. */
export type ExportReply = { k: 'warn'; message: string; fields?: LogFields } | { k: 'flushed'; id: number };

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
}

export class ExportThread implements RequestExporter {
  private readonly worker: Worker;
  private items: ExportItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushes = new Map<number, () => void>();
  private nextFlush = 0;
  private readonly maxItems: number;
  private readonly maxDelayMs: number;

  constructor(
    workerFile: string,
    private readonly opts: ExportThreadOptions,
  ) {
    this.maxItems = opts.maxItems ?? 64;
    this.maxDelayMs = opts.maxDelayMs ?? 25;
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
      else this.flushes.get(m.id)?.();
    });
    this.worker.on('error', (err) => opts.warn('OTLP trace export thread failed; no more traces are exported', { error: err.message }));
  }

  request(r: RequestRecord, t: RequestTrace): void {
    if (this.opts.settings.sample(r.model, parseTraceparent(t.traceparent))) this.push({ k: 'request', r, at: t.receivedAt, ...(t.traceparent ? { tp: t.traceparent } : {}) });
    else if (r.batch_id !== undefined) this.push({ k: 'unsampled', batch: r.batch_id });
  }

  batch(model: string, version: string, e: BatchEvent): void {
    // Only batches with a recorded request can be linked to.
    if (e.requestIds.some(Boolean)) this.push({ k: 'batch', model, version, e });
  }

  private push(item: ExportItem): void {
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
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.worker.postMessage(items);
  }

  /** Everything handed over so far is sent by the SDK (tests, shutdown). */
  flush(timeoutMs = 10_000): Promise<void> {
    this.post();
    const id = this.nextFlush++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.flushes.delete(id);
        resolve();
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
    const started = Date.now();
    let sent = false;
    await Promise.race([this.flush(timeoutMs).then(() => (sent = Date.now() - started < timeoutMs)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    if (!sent) this.opts.warn('OTLP trace export: spans still unsent at shutdown were dropped', { waited_ms: timeoutMs });
    await this.worker.terminate();
  }
}
