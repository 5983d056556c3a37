// Response schemas transcribed from the specifications, to validate every answer the conformance
// tests get. Sources (read with the search tool; not our own reading of the protocol):
//  - KServe's Open Inference Protocol REST spec, open_inference_rest.yaml (kserve/open-inference-protocol,
//    specification/protocol/): metadata_server_response, metadata_model_response, metadata_tensor,
//    inference_response, response_output, tensor_data, the error responses; the prose spec
//    (docs/predict-api/v2/required_api.md) for parameter values: "a $string, $number, or $boolean".
//  - Triton's extension documents (triton-inference-server/server docs/protocol/): binary data
//    (an output carries `data` or parameters.binary_data_size), statistics, model configuration,
//    model repository, logging.
// The YAML sets no additionalProperties: extra keys are allowed, as here (passthrough).
import { z } from 'zod';

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
type TensorData = (number | string | boolean | TensorData)[];
const tensorData: z.ZodType<TensorData> = z.lazy(() => z.array(z.union([tensorData, z.number(), z.string(), z.boolean()])));

export const metadataServerResponse = z.looseObject({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
export const errorResponse = z.looseObject({ error: z.string() });
const metadataTensor = z.looseObject({ name: z.string(), datatype: z.string(), shape: z.array(z.int()) });
export const metadataModelResponse = z.looseObject({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(metadataTensor).optional(),
  outputs: z.array(metadataTensor).optional(),
});
const responseOutput = z
  .looseObject({ name: z.string(), shape: z.array(z.int().min(0)), datatype: z.string(), parameters: parameters.optional(), data: tensorData.optional() })
  // The binary extension: "data" is left out exactly when parameters.binary_data_size is given.
  .refine((o) => (o.data === undefined) === (o.parameters?.binary_data_size !== undefined), 'an output needs data, or parameters.binary_data_size (binary extension)');
export const inferenceResponse = z.looseObject({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: parameters.optional(),
  outputs: z.array(responseOutput),
});

// Triton extensions.
const duration = z.looseObject({ count: z.int().min(0), ns: z.int().min(0) });
export const statisticsResponse = z.looseObject({
  model_stats: z.array(
    z.looseObject({
      name: z.string(),
      version: z.string(),
      last_inference: z.int().min(0),
      inference_count: z.int().min(0),
      execution_count: z.int().min(0),
      inference_stats: z.looseObject({ success: duration, fail: duration, queue: duration, compute_input: duration, compute_infer: duration, compute_output: duration }),
      batch_stats: z.array(z.looseObject({ batch_size: z.int().min(1), compute_input: duration, compute_infer: duration, compute_output: duration })),
    }),
  ),
});
const configTensor = z.looseObject({ name: z.string(), data_type: z.string().regex(/^TYPE_/), dims: z.array(z.int()), is_shape_tensor: z.boolean() });
export const modelConfigResponse = z.looseObject({
  name: z.string(),
  platform: z.string(),
  backend: z.string(),
  max_batch_size: z.int().min(0),
  input: z.array(configTensor.extend({ optional: z.boolean() })),
  output: z.array(configTensor),
  instance_group: z.array(z.looseObject({ kind: z.enum(['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL']), count: z.int().min(1) })),
  dynamic_batching: z
    .looseObject({
      preferred_batch_size: z.array(z.int()),
      max_queue_delay_microseconds: z.int().min(0),
      default_queue_policy: z.looseObject({ default_timeout_microseconds: z.int().min(0), max_queue_size: z.int().min(0) }).optional(),
    })
    .optional(),
});
export const repositoryIndexResponse = z.array(
  z.looseObject({ name: z.string(), version: z.string().optional(), state: z.string().optional(), reason: z.string().optional() }),
);
export const logSettingsResponse = z.looseObject({
  log_file: z.string(),
  log_info: z.boolean(),
  log_warning: z.boolean(),
  log_error: z.boolean(),
  log_verbose_level: z.int().min(0),
  log_format: z.string(),
});

/** Parses, or fails with the schema's complaint and the body. */
export function conforms<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new Error(`${what} does not match the specification: ${r.error.message}\n${JSON.stringify(body).slice(0, 500)}`);
  return r.data;
}
