// The inference path of one request, free of HTTP: resolve the version, validate the request
// against its metadata, run it on an instance, build the v2 response. Later stages (batcher,
// breaker, canary router, feature cache) plug in here.
import { EventEmitter } from 'node:events';
import type { InferResponse } from '../../../common/api.js';
import { AgentError, InvalidInputError } from '../errors.js';
import type { ModelManager } from '../models/modelManager.js';
import { buildInferResponse } from '../protocol/buildInferResponse.js';
import { parseInferRequest, type RequestLimits } from '../protocol/parseInferRequest.js';
import type { InferenceOutcome } from '../telemetry/agentMetrics.js';

export class InferenceService extends EventEmitter<{ inference: [InferenceOutcome] }> {
  constructor(
    private readonly models: ModelManager,
    private readonly limits: RequestLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
  }

  async infer(model: string, version: string | undefined, body: unknown, signal?: AbortSignal): Promise<InferResponse> {
    const started = this.now();
    const target = this.models.resolve(model, version);
    const report = (outcome: string) =>
      this.emit('inference', {
        model: target.model,
        version: target.version,
        outcome,
        durationS: (this.now() - started) / 1000,
      });
    try {
      const request = parseInferRequest(
        body,
        {
          label: `${target.model}/${target.version}`,
          inputs: target.inputs,
          outputs: target.outputs,
          maxBatchSize: target.config.max_batch_size,
        },
        this.limits,
      );
      const timeoutMs = requestTimeoutMs(request.parameters.timeout);
      const results = await target.batcher.submit({
        feeds: request.feeds,
        rows: request.batchSize,
        outputNames: request.outputs.map((o) => o.name),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(signal ? { signal } : {}),
      });
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
      report('success');
      return response;
    } catch (err) {
      report(err instanceof AgentError ? err.kind : 'internal');
      throw err;
    }
  }
}

/** The request parameter `timeout` (milliseconds) lowers the model's default queue deadline. */
function requestTimeoutMs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`parameter 'timeout' must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return value;
}
