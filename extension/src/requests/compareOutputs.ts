// Two versions' answers to the same request, output by output: the largest and mean absolute
// difference, and the rows whose argmax (the predicted class, over the last dimension) differs.
// Pure (no `vscode`).
import type { InferResponse, ResponseOutput } from '../../../common/api.js';

export interface FlippedRow {
  row: number;
  /** The argmax in the first and the second answer (a label when the model has labels). */
  a: number;
  b: number;
}

export interface OutputComparison {
  name: string;
  shape: number[];
  /** Absent when the outputs cannot be compared element by element; `note` says why. */
  maxAbsDiff?: number;
  meanAbsDiff?: number;
  /** Rows along the last dimension (the batch for a [batch, classes] output). */
  rows?: number;
  flips?: FlippedRow[];
  note?: string;
}

function numbers(o: ResponseOutput): number[] | undefined {
  if (!Array.isArray(o.data) || o.datatype === 'BYTES' || o.datatype === 'BOOL') return undefined;
  return o.data as number[];
}

function argmax(values: number[], from: number, width: number): number {
  let best = 0;
  for (let i = 1; i < width; i++) if (values[from + i]! > values[from + best]!) best = i;
  return best;
}

export function compareOutputs(a: InferResponse, b: InferResponse): OutputComparison[] {
  const names = [...new Set([...a.outputs.map((o) => o.name), ...b.outputs.map((o) => o.name)])];
  return names.map((name) => {
    const x = a.outputs.find((o) => o.name === name);
    const y = b.outputs.find((o) => o.name === name);
    if (!x || !y) return { name, shape: (x ?? y)!.shape, note: `only version ${x ? a.model_version : b.model_version} answered this output` };
    if (x.shape.join() !== y.shape.join()) return { name, shape: x.shape, note: `shapes differ: [${x.shape.join(', ')}] vs [${y.shape.join(', ')}]` };
    const u = numbers(x);
    const v = numbers(y);
    if (!u || !v) return { name, shape: x.shape, note: `${x.datatype} output${Array.isArray(x.data) ? ', not numeric' : ' sent as binary data'}: not compared` };
    if (u.length !== v.length) return { name, shape: x.shape, note: `${u.length} vs ${v.length} elements` };
    let max = 0;
    let sum = 0;
    for (let i = 0; i < u.length; i++) {
      const d = Math.abs(u[i]! - v[i]!);
      if (d > max) max = d;
      sum += d;
    }
    const out: OutputComparison = { name, shape: x.shape, maxAbsDiff: max, meanAbsDiff: u.length ? sum / u.length : 0 };
    // Argmax needs a class dimension of at least two.
    const width = x.shape[x.shape.length - 1] ?? 0;
    if (width >= 2 && u.length % width === 0) {
      out.rows = u.length / width;
      out.flips = [];
      for (let r = 0; r < out.rows; r++) {
        const ia = argmax(u, r * width, width);
        const ib = argmax(v, r * width, width);
        if (ia !== ib) out.flips.push({ row: r, a: ia, b: ib });
      }
    }
    return out;
  });
}
