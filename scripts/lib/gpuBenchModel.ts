// The GPU benchmark's model: a synthetic MLP 784-2048-2048-10 (ReLU, softmax) with 23 MB of
// float32 weights and 0.75 GFLOP per batch of 64, where the demo `digits` MLP (784-64-10) is far
// too small for a GPU to matter. Its weights are seeded He-normal noise, not trained: it
// classifies nothing, it only costs what a model of its size costs. Built deterministically on
// demand (bench:gpu, the GPU device check) into bench/models/, which git ignores.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { denseSoftmaxModel, type DenseLayer } from './onnxExport.js';
import { gaussian, seededRandom } from './random.js';

export const GPU_BENCH_MODEL = 'mlp2048';
const WIDTHS = [784, 2048, 2048, 10];
const SEED = 15;

/** Multiply-adds ×2 per row: the model's floating-point operations for one input row. */
export const FLOPS_PER_ROW = WIDTHS.slice(1).reduce((n, w, i) => n + 2 * WIDTHS[i]! * w, 0);

function layers(): DenseLayer[] {
  const random = seededRandom(SEED);
  return WIDTHS.slice(1).map((outputs, i) => {
    const inputs = WIDTHS[i]!;
    const std = Math.sqrt(2 / inputs);
    const weights = new Float32Array(inputs * outputs);
    for (let k = 0; k < weights.length; k++) weights[k] = gaussian(random, std);
    return { inputs, outputs, weights, bias: new Float32Array(outputs), relu: i < WIDTHS.length - 2 };
  });
}

/**
 * Writes `<repository>/mlp2048/{1/model.onnx, config.json}` unless it is there, with the given
 * execution providers; returns the model's folder.
 */
export function ensureGpuBenchModel(repository: string, config: Record<string, unknown>): string {
  const dir = join(repository, GPU_BENCH_MODEL);
  const file = join(dir, '1', 'model.onnx');
  if (!existsSync(file)) {
    mkdirSync(join(dir, '1'), { recursive: true });
    writeFileSync(
      file,
      denseSoftmaxModel({ layers: layers(), inputName: 'pixels', outputName: 'probs', docString: `Synthetic benchmark MLP ${WIDTHS.join('-')} (seeded He-normal weights, seed ${SEED}; not trained).` }),
    );
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ max_batch_size: 256, ...config }, null, 2));
  return dir;
}
