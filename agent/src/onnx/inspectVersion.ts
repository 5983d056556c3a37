// A loaded version's inspection: its model.onnx summarized, beside the metadata and the effective
// configuration the agent serves it with. Reads the file on each call (the inspector is opened by
// hand, rarely); the serving path never comes here.
import { readFile } from 'node:fs/promises';
import type { ModelInspection } from '../../../common/api.js';
import type { ModelManager } from '../models/modelManager.js';
import { DEFAULT_BREAKER_SETTINGS } from '../resilience/breakerSettings.js';
import { providerNames } from '../repository/modelConfig.js';
import { summarizeOnnx } from './onnxSummary.js';

export async function inspectVersion(models: ModelManager, model: string, version: string): Promise<ModelInspection> {
  const { servable, path, relative } = models.servedFile(model, version);
  const bytes = await readFile(path);
  const { config } = servable;
  return {
    model,
    version,
    file: relative,
    file_bytes: bytes.length,
    onnx: summarizeOnnx(bytes),
    inputs: servable.inputs,
    outputs: servable.outputs,
    provider: servable.provider,
    instances: servable.pool.size,
    config: {
      max_batch_size: config.max_batch_size,
      instance_count: config.instance_count,
      execution_providers: providerNames(config.execution_providers),
      // As Triton: no dynamic batching for a model without a batch dimension.
      dynamic_batching: config.max_batch_size > 0 ? { ...(config.dynamic_batching ?? { max_queue_delay_ms: 0, preferred_batch_size: [], max_queue_size: 0, default_timeout_ms: 0 }) } : null,
      breaker: { ...(config.breaker ?? DEFAULT_BREAKER_SETTINGS) },
      run_timeout_ms: config.run_timeout_ms,
      intra_op_threads: config.intra_op_threads,
    },
  };
}
