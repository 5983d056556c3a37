// What a classifier predicted: the top-1 class and its score per row, from the model's class
// output (the one whose last dimension matches the labels, or the first [n, k] float output).
import type { TensorMetadata } from '../../../common/api.js';
import type { WireTensor } from '../inference/tensorTypes.js';

export interface Predictions {
  classes: number[];
  confidences: number[];
}

export function predictionsOf(results: Record<string, WireTensor>, outputs: TensorMetadata[], labels?: string[]): Predictions | undefined {
  const candidates = outputs.filter((o) => (o.datatype === 'FP32' || o.datatype === 'FP64') && o.shape.length === 2);
  const meta = labels ? candidates.find((o) => o.shape[1] === labels.length) : candidates.find((o) => o.shape[1] !== 1);
  const tensor = meta && results[meta.name];
  if (!tensor || tensor.dims.length !== 2) return undefined;
  const [rows, k] = tensor.dims as [number, number];
  if (k < 2) return undefined;
  const data = tensor.data as Float32Array | Float64Array;
  const classes: number[] = new Array(rows);
  const confidences: number[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (data[r * k + j]! > data[r * k + best]!) best = j;
    classes[r] = best;
    confidences[r] = data[r * k + best]!;
  }
  return { classes, confidences };
}
