// Which input shapes have run on a model version. ONNX Runtime cannot say whether a node failed
// because of the model or because of the input it was given (a MatMul with the wrong inner
// dimension, on a model whose dimensions are all symbolic): both are "Non-zero status code
// returned while running ... node". When inputs of that shape have run before, the model has
// shown it takes them, and the failure is the model's; when they never have, the input is taken to
// be at fault — so no client can open the breaker for everyone with shapes the model never took.
import type { WireTensor } from '../inference/tensorTypes.js';

/** Enough for every shape a model meets in practice; past it, new shapes are not remembered. */
const MAX_SHAPES = 4096;

export class ProvenShapes {
  private readonly seen = new Set<string>();

  /** `batched`: the first dimension is the batch, and any row count is the same shape. */
  constructor(private readonly batched: boolean) {}

  add(feeds: Record<string, WireTensor>): void {
    if (this.seen.size >= MAX_SHAPES) return;
    this.seen.add(this.signature(feeds));
  }

  has(feeds: Record<string, WireTensor>): boolean {
    return this.seen.has(this.signature(feeds));
  }

  private signature(feeds: Record<string, WireTensor>): string {
    let key = '';
    for (const name of Object.keys(feeds).sort()) {
      const t = feeds[name]!;
      key += `${name}:${t.type}:${(this.batched ? t.dims.slice(1) : t.dims).join('x')};`;
    }
    return key;
  }
}
