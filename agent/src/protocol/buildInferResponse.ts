// Turns ONNX Runtime outputs into an Open Inference Protocol v2 response, including Triton's
// classification extension ("<score>:<index>:<label>" for the top k of each row) and its binary
// tensor data extension (an output asked for as binary carries `binary_data_size` instead of
// `data`; its bytes follow the JSON, in the order of the outputs).
import type { InferResponse, ResponseOutput, TensorMetadata } from '../../../common/api.js';
import { toJsonValues, type TensorValues, type WireTensor } from '../inference/tensorTypes.js';
import { encodeBinaryTensor } from './binaryTensors.js';
import type { RequestedOutput } from './parseInferRequest.js';

export interface ResponseContext {
  model: string;
  version: string;
  id?: string;
  outputs: TensorMetadata[];
  labels?: string[];
}

export interface BuiltResponse {
  response: InferResponse;
  /** The binary part, one chunk per binary output, in order (empty: a plain JSON response). */
  binary: Uint8Array[];
}

export function buildInferResponse(
  ctx: ResponseContext,
  requested: RequestedOutput[],
  results: Record<string, WireTensor>,
): BuiltResponse {
  const binary: Uint8Array[] = [];
  const outputs: ResponseOutput[] = requested.map((r) => {
    const tensor = results[r.name];
    const meta = ctx.outputs.find((o) => o.name === r.name);
    if (!tensor || !meta) throw new Error(`the model produced no output '${r.name}'`);
    const { datatype, shape, values } =
      r.classification !== undefined
        ? classify(tensor, r.classification, ctx.labels)
        : { datatype: meta.datatype, shape: tensor.dims, values: tensor.data };
    if (!r.binary) return { name: r.name, datatype, shape, data: toJsonValues(datatype, values) };
    const bytes = encodeBinaryTensor(values);
    binary.push(bytes);
    return { name: r.name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } };
  });
  const response: InferResponse = {
    model_name: ctx.model,
    model_version: ctx.version,
    ...(ctx.id !== undefined ? { id: ctx.id } : {}),
    outputs,
  };
  return { response, binary };
}

function classify(tensor: WireTensor, k: number, labels: string[] | undefined): { datatype: 'BYTES'; shape: number[]; values: TensorValues } {
  const values = Array.from(tensor.data as ArrayLike<number | bigint>, Number);
  const classes = tensor.dims.length ? tensor.dims[tensor.dims.length - 1]! : values.length;
  const rows = classes === 0 ? 0 : values.length / classes;
  const top = Math.min(k, classes);
  const data: string[] = [];
  for (let row = 0; row < rows; row++) {
    const order = Array.from({ length: classes }, (_, i) => i);
    const base = row * classes;
    order.sort((a, b) => values[base + b]! - values[base + a]! || a - b);
    for (const index of order.slice(0, top)) {
      const label = labels?.[index];
      const score = values[base + index]!.toFixed(6);
      data.push(label === undefined ? `${score}:${index}` : `${score}:${index}:${label}`);
    }
  }
  const shape = tensor.dims.length > 1 ? [...tensor.dims.slice(0, -1), top] : [top];
  return { datatype: 'BYTES', shape, values: data };
}
