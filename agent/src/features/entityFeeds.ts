// Turns entities' feature vectors into the model's input tensor: one row per entity, in order.
import type { TensorMetadata } from '../../../common/api.js';
import { FeatureDataError, InvalidInputError } from '../errors.js';
import type { WireTensor } from '../inference/tensorTypes.js';

export function entityFeeds(
  label: string,
  inputs: TensorMetadata[],
  batched: boolean,
  ids: string[],
  vectors: Float32Array[],
): Record<string, WireTensor> {
  if (inputs.length !== 1) {
    throw new InvalidInputError(`${label} has ${inputs.length} inputs; entity inference fills exactly one, so send 'inputs' instead`);
  }
  const input = inputs[0]!;
  if (input.datatype !== 'FP32' && input.datatype !== 'FP64') {
    throw new InvalidInputError(`${label} takes ${input.datatype}; entity features are floating point, so send 'inputs' instead`);
  }
  const rowDims = batched ? input.shape.slice(1) : input.shape;
  if (rowDims.some((d) => d < 0)) {
    throw new InvalidInputError(`${label} input '${input.name}' has variable dimensions [${input.shape.join(', ')}]; entity inference needs a fixed row size`);
  }
  const width = rowDims.reduce((a, b) => a * b, 1);
  const data = input.datatype === 'FP32' ? new Float32Array(ids.length * width) : new Float64Array(ids.length * width);
  vectors.forEach((v, i) => {
    if (v.length !== width) {
      // The request is fine; the store holds data this model cannot take. Not the client's to fix.
      throw new FeatureDataError(`the feature store holds ${v.length} values for entity "${ids[i]}", but ${label} input '${input.name}' needs ${width}`);
    }
    data.set(v, i * width);
  });
  const dims = batched ? [ids.length, ...rowDims] : rowDims;
  return { [input.name]: { type: input.datatype === 'FP32' ? 'float32' : 'float64', dims, data } };
}
