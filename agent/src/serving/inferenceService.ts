// The inference path of one request, free of HTTP: resolve the version, validate the request
// against its metadata, run it on an instance, build the v2 response. Later stages (batcher,
// breaker, canary router, feature cache) plug in here.
import { EventEmitter } from 'node:events';
import {
  AgentError,
  DeadlineExceededError,
  InvalidInputError,
  ModelExecutionError,
  WorkerCrashedError,
} from '../errors.js';
import type { FaultInjector } from '../faults/faultInjector.js';
import { entityFeeds } from '../features/entityFeeds.js';
import type { BatchRequest } from '../batching/dynamicBatcher.js';
import type { CancelSignal } from '../batching/cancellation.js';
import { predictionsOf, type Predictions } from './predictions.js';
import type { ModelManager, ServableVersion } from '../models/modelManager.js';
import { buildInferResponse, type BuiltResponse } from '../protocol/buildInferResponse.js';
import { parseInferRequest, type InferTarget, type ParsedInferRequest, type RequestLimits } from '../protocol/parseInferRequest.js';
import { parseJson } from '../protocol/parseJson.js';
import { OFF_THREAD_MIN_BYTES, type ParserThread } from './parserThread.js';
import type { InferenceOutcome } from '../telemetry/agentMetrics.js';
import type { RequestTrace } from '../tracing/requestTrace.js';

export class InferenceService extends EventEmitter<{ inference: [InferenceOutcome] }> {
  constructor(
    private readonly models: ModelManager,
    private readonly limits: RequestLimits,
    private readonly faults: FaultInjector,
    /** Where large JSON bodies are parsed; inline when absent. */
    private readonly parser?: ParserThread,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
  }

  /** Picks the version for unversioned requests (a canary's traffic split); undefined = default. */
  router: (model: string) => string | undefined = () => undefined;

  /**
   * Serves one request. `payload.json` is the JSON (header) as bytes, or `payload.body` already
   * parsed; `payload.binary` the bytes that followed it (binary tensor data extension), when the
   * request had Inference-Header-Content-Length.
   */
  async infer(model: string, version: string | undefined, payload: InferPayload, signal?: CancelSignal, trace?: RequestTrace): Promise<BuiltResponse> {
    const started = this.now();
    // Requests that name a version are never split.
    const routed = version === undefined ? this.router(model) : undefined;
    const target = this.models.resolve(model, version ?? routed);
    if (trace) {
      trace.model = target.model;
      trace.version = target.version;
      trace.canaryRouted = routed !== undefined;
    }
    const release = target.usage.retain();
    const report = (outcome: string, modelFailure: boolean, predictions?: Predictions) =>
      this.emit('inference', {
        model: target.model,
        version: target.version,
        outcome,
        durationS: (this.now() - started) / 1000,
        ...(trace ? { requestId: trace.id } : {}),
        modelFailure,
        ...(predictions ?? {}),
        ...(target.config.labels ? { labels: target.config.labels } : {}),
      });
    try {
      const parsed = this.parse(target, { model, ...(version !== undefined ? { version } : {}) }, payload);
      const request = parsed instanceof Promise ? await parsed : parsed;
      if (trace) {
        trace.mark('parsed_ms');
        trace.rows = request.batchSize;
        if (request.id !== undefined) trace.clientId = request.id;
      }
      // The parsed JSON (784 numbers for one digit) is garbage from here on: let it die young,
      // rather than survive (and be copied by) the collections while the request waits for its
      // batch. Measured: ~10% of the JSON infer route's throughput.
      payload.body = undefined;
      payload.json = undefined;
      payload.binary = undefined;
      const timeoutMs = request.timeoutMs;
      if (request.entities) {
        // Features are resolved before admission: a feature store outage is not the model's failure.
        if (!target.features) {
          throw new InvalidInputError(`${target.model} has no feature source configured; send 'inputs' instead of parameters.entities`);
        }
        const found = trace ? { count: 0, hits: 0, misses: 0, stale: 0, negative: 0 } : undefined;
        const vectors = await target.features.getMany(request.entities, found);
        if (trace) {
          trace.entities = found;
          trace.mark('features_ms');
        }
        request.feeds = entityFeeds(`${target.model}/${target.version}`, target.inputs, target.config.max_batch_size > 0, request.entities, vectors);
      }
      // Admission comes after validation (a bad request is the client's fault, never the model's)
      // and before the queue (an open breaker answers at once).
      if (trace) trace.breaker = target.breaker.currentState;
      const ticket = target.breaker.admit();
      trace?.mark('admitted_ms');
      const batchRequest: BatchRequest = {
        feeds: request.feeds,
        rows: request.batchSize,
        outputNames: request.outputs.map((o) => o.name),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(signal ? { signal } : {}),
        ...(trace ? { traceId: trace.id } : {}),
      };
      trace?.mark('enqueued_ms');
      // The breaker's slow-call clock starts when the model gets the request, not in the queue:
      // load alone must not look like a slow model.
      const modelTime = () => (batchRequest.dispatchedAt === undefined ? 0 : this.now() - batchRequest.dispatchedAt);
      let results;
      try {
        results = await target.batcher.submit(batchRequest).catch((err: unknown) => {
          throw blame(err, target, request.feeds);
        });
        target.shapes.add(request.feeds);
        if (this.faults.shouldFail(target.model, target.version)) {
          throw new ModelExecutionError(`${target.model}/${target.version} failed to run: injected fault (PUT /api/v1/faults)`);
        }
        ticket.record('success', modelTime());
      } catch (err) {
        ticket.record(countsAgainstModel(err) ? 'failure' : 'ignored', modelTime());
        throw err;
      } finally {
        if (trace) batchTimes(trace, batchRequest);
      }
      const response = buildInferResponse(
        {
          model: target.model,
          version: target.version,
          outputs: target.outputs,
          ...(request.id !== undefined ? { id: request.id } : {}),
          ...(target.config.labels ? { labels: target.config.labels } : {}),
        },
        request.outputs,
        results,
      );
      report('success', false, predictionsOf(results, target.outputs, target.config.labels));
      return response;
    } catch (err) {
      report(outcomeOf(err), countsAgainstModel(err));
      trace?.failed(outcomeOf(err), (err as Error)?.message ?? String(err));
      throw err;
    } finally {
      release();
    }
  }

  /** What each version takes, built once per version (and sent once to the parser thread). */
  private readonly targets = new WeakMap<ServableVersion, Omit<InferTarget, 'url'>>();

  private parse(servable: ServableVersion, url: InferTarget['url'], payload: InferPayload): ParsedInferRequest | Promise<ParsedInferRequest> {
    let target = this.targets.get(servable);
    if (!target) {
      target = { label: `${servable.model}/${servable.version}`, inputs: servable.inputs, outputs: servable.outputs, maxBatchSize: servable.config.max_batch_size };
      this.targets.set(servable, target);
    }
    const { json, binary } = payload;
    if (json && !binary && this.parser && json.length >= OFF_THREAD_MIN_BYTES) return this.parser.parse(json, target, url, this.limits);
    return parseInferRequest(json ? parseJson(json) : payload.body, { ...target, ...(url ? { url } : {}) }, this.limits, binary, payload.ownsBinary);
  }
}

export interface InferPayload {
  /** The JSON as received. */
  json?: Buffer;
  /** The JSON already parsed (when there are no bytes). */
  body?: unknown;
  binary?: Uint8Array;
  /** `binary`'s buffer is this request's alone (not pooled, not shared): tensors may be views of it. */
  ownsBinary?: boolean;
}

/** What the batcher filled in on the request: its batch and when that batch ran. */
function batchTimes(trace: RequestTrace, r: BatchRequest): void {
  if (r.dispatchedAt !== undefined) trace.mark('dispatched_ms', r.dispatchedAt);
  if (r.computeStartedAt !== undefined) trace.mark('compute_start_ms', r.computeStartedAt);
  if (r.computeEndedAt !== undefined) trace.mark('compute_end_ms', r.computeEndedAt);
  if (r.batchId !== undefined) trace.batchId = r.batchId;
  if (r.instance !== undefined) [trace.instance, trace.instanceCount] = [r.instance, r.instances];
}

/** The outcome label: the error's kind; a deadline the client set is told apart from the model's. */
export function outcomeOf(err: unknown): string {
  if (err instanceof DeadlineExceededError && err.setByClient) return 'client_timeout';
  return err instanceof AgentError ? err.kind : 'internal';
}

/**
 * A model failure on inputs of a shape that has never run on the version is taken to be the
 * input's fault (see provenShapes.ts): a 400 that the breaker does not count.
 */
function blame(err: unknown, target: ServableVersion, feeds: BatchRequest['feeds']): unknown {
  if (!(err instanceof ModelExecutionError) || target.shapes.has(feeds)) return err;
  const shapes = Object.entries(feeds).map(([name, t]) => `${name} [${t.dims.join(', ')}]`).join(', ');
  return new InvalidInputError(`${err.message} — no input of this shape (${shapes}) has run on ${target.model}/${target.version}, so the input is taken to be at fault`);
}

/**
 * What the breaker counts as the version's failure: model failures, crashes, and the model's own
 * queue deadline passing. Not client errors, not queue rejections, and not a deadline the client
 * set itself (or any client could open the breaker for everyone with `"timeout": 1`).
 */
function countsAgainstModel(err: unknown): boolean {
  if (err instanceof DeadlineExceededError) return !err.setByClient;
  return err instanceof ModelExecutionError || err instanceof WorkerCrashedError;
}
