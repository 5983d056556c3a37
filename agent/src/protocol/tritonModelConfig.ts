// Triton's model configuration extension: a loaded version's settings as the JSON form of Triton's
// ModelConfig protobuf (snake_case keys, enum names, 64-bit fields as numbers, default scalars
// printed, unset sub-messages left out), so that perf_analyzer and tritonclient's
// get_model_config() read it as they read Triton's.
import type { Datatype, TensorMetadata } from '../../../common/api.js';
import { providerNames, type ModelConfig } from '../repository/modelConfig.js';

/** Triton's DataType enum names (BYTES is TYPE_STRING there). */
export const TRITON_TYPE: Record<Datatype, string> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
};

export interface ServedVersion {
  model: string;
  config: ModelConfig;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  /** The execution provider the version runs on (cpu, cuda, ...). */
  provider: string;
}

const GPU_PROVIDERS = new Set(['cuda', 'tensorrt', 'webgpu']);
const ms = (v: number | undefined) => Math.round((v ?? 0) * 1000);

export function tritonModelConfig(v: ServedVersion): Record<string, unknown> {
  const { config } = v;
  // With a batch dimension, Triton's dims leave it out.
  const dims = (t: TensorMetadata) => (config.max_batch_size > 0 ? t.shape.slice(1) : t.shape);
  const batching = config.dynamic_batching;
  return {
    name: v.model,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    runtime: '',
    // Every version folder is served (the default one answers unversioned requests).
    version_policy: { all: {} },
    max_batch_size: config.max_batch_size,
    input: v.inputs.map((t) => ({
      name: t.name,
      data_type: TRITON_TYPE[t.datatype],
      format: 'FORMAT_NONE',
      dims: dims(t),
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
    })),
    output: v.outputs.map((t) => ({ name: t.name, data_type: TRITON_TYPE[t.datatype], dims: dims(t), label_filename: '', is_shape_tensor: false })),
    batch_input: [],
    batch_output: [],
    // Triton reports dynamic_batching only for models that batch; so does this.
    ...(config.max_batch_size > 0
      ? {
          dynamic_batching: {
            preferred_batch_size: batching?.preferred_batch_size ?? [],
            max_queue_delay_microseconds: ms(batching?.max_queue_delay_ms),
            preserve_ordering: false,
            priority_levels: 0,
            default_priority_level: 0,
            default_queue_policy: {
              timeout_action: 'REJECT',
              default_timeout_microseconds: ms(batching?.default_timeout_ms),
              allow_timeout_override: true,
              max_queue_size: batching?.max_queue_size ?? 0,
            },
            priority_queue_policy: {},
          },
        }
      : {}),
    instance_group: [
      {
        name: v.model,
        kind: GPU_PROVIDERS.has(v.provider) ? 'KIND_GPU' : 'KIND_CPU',
        count: config.instance_count,
        gpus: [],
        secondary_devices: [],
        profile: [],
        passive: false,
        host_policy: '',
      },
    ],
    default_model_filename: 'model.onnx',
    cc_model_filenames: {},
    metric_tags: {},
    // Triton's ModelParameter map: the settings of Inferscope's own that Triton has no field for.
    parameters: {
      execution_provider: { string_value: v.provider },
      execution_providers: { string_value: providerNames(config.execution_providers).join(',') },
      ...(config.default_version !== undefined ? { default_version: { string_value: config.default_version } } : {}),
    },
    model_warmup: [],
  };
}
