// Turns ONNX Runtime outputs into an Open Inference Protocol v2 response, including Triton's
// classification extension ("<score>:<index>:<label>" for the top k of each row).
import type { InferResponse, ResponseOutput, TensorMetadata } from '../../../common/api.js';
import { toJsonValues, type WireTensor } from '../inference/tensorTypes.js';
import type { RequestedOutput } from './parseInferRequest.js';

export interface ResponseContext {
  model: string;
  version: string;
  id?: string;
  outputs: TensorMetadata[];
  labels?: string[];
}

export function buildInferResponse(
  ctx: ResponseContext,
  requested: RequestedOutput[],
  results: Record<string, WireTensor>,
): InferResponse {
  const outputs: ResponseOutput[] = requested.map((r) => {
    const tensor = results[r.name];
    const meta = ctx.outputs.find((o) => o.name === r.name);
    if (!tensor || !meta) throw new Error(`the model produced no output '${r.name}'`);
    if (r.classification !== undefined) return classify(r.name, tensor, r.classification, ctx.labels);
    return { name: r.name, datatype: meta.datatype, shape: tensor.dims, data: toJsonValues(meta.datatype, tensor.data) };
  });
  return {
    model_name: ctx.model,
    model_version: ctx.version,
    ...(ctx.id !== undefined ? { id: ctx.id } : {}),
    outputs,
  };
}

function classify(name: string, tensor: WireTensor, k: number, labels: string[] | undefined): ResponseOutput {
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
  return { name, datatype: 'BYTES', shape, data };
}
