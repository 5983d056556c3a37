// Joining requests into one batch along the first dimension, and splitting the results back.
import type { TensorValues, WireTensor } from '../inference/tensorTypes.js';

type TypedArray = Exclude<TensorValues, string[]>;
type TypedArrayCtor = new (n: number) => TypedArray;

/** Concatenates each input of `parts` (same names, same non-batch dims) along dimension 0. */
export function concatFeeds(parts: Record<string, WireTensor>[], totalRows: number): Record<string, WireTensor> {
  if (parts.length === 1) return parts[0]!;
  const out: Record<string, WireTensor> = {};
  for (const name of Object.keys(parts[0]!)) {
    const first = parts[0]![name]!;
    const dims = [totalRows, ...first.dims.slice(1)];
    if (Array.isArray(first.data)) {
      out[name] = { type: first.type, dims, data: parts.flatMap((p) => p[name]!.data as string[]) };
      continue;
    }
    const total = parts.reduce((n, p) => n + p[name]!.data.length, 0);
    const data = new (first.data.constructor as TypedArrayCtor)(total);
    let offset = 0;
    for (const p of parts) {
      const src = p[name]!.data as TypedArray;
      (data as Float32Array).set(src as Float32Array, offset);
      offset += src.length;
    }
    out[name] = { type: first.type, dims, data };
  }
  return out;
}

/**
 * Splits each output of a batch into per-request tensors by row counts. Throws if an output's
 * first dimension is not the batch (the model does not batch the way its config says).
 */
export function splitOutputs(outputs: Record<string, WireTensor>, rows: number[]): Record<string, WireTensor>[] {
  const total = rows.reduce((a, b) => a + b, 0);
  const result: Record<string, WireTensor>[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (rows.length === 1) {
      result[0]![name] = t;
      continue;
    }
    if (t.dims[0] !== total) {
      throw new Error(`output '${name}' has first dimension ${t.dims[0]}, but the batch has ${total} rows; set max_batch_size to 0 for this model`);
    }
    const perRow = total === 0 ? 0 : t.data.length / total;
    let row = 0;
    rows.forEach((n, i) => {
      const start = row * perRow;
      const end = (row + n) * perRow;
      // slice (a copy), not subarray: each response owns its data and the batch buffer can go.
      const data = Array.isArray(t.data) ? t.data.slice(start, end) : (t.data as TypedArray).slice(start, end);
      result[i]![name] = { type: t.type, dims: [n, ...t.dims.slice(1)], data: data as TensorValues };
      row += n;
    });
  }
  return result;
}

/** Requests can share a batch only if every input agrees on datatype and non-batch dimensions. */
export function batchKey(feeds: Record<string, WireTensor>, outputNames: string[]): string {
  const names = Object.keys(feeds);
  if (names.length === 1 && outputNames.length <= 1) {
    // The common case, on the hot path of every request: no sorting, no intermediate arrays.
    const t = feeds[names[0]!]!;
    let dims = '';
    for (let i = 1; i < t.dims.length; i++) dims += `${t.dims[i]}x`;
    return `${names[0]}:${t.type}:${dims}>${outputNames[0] ?? ''}`;
  }
  const inputs = names
    .sort()
    .map((name) => `${name}:${feeds[name]!.type}:${feeds[name]!.dims.slice(1).join('x')}`);
  return `${inputs.join('|')}>${[...outputNames].sort().join(',')}`;
}
