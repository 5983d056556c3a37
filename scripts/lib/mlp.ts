// A small dense network trained with minibatch SGD (softmax cross-entropy), in plain TypeScript.
// Enough for MNIST-sized demo models; deterministic for a given seed.
import { gaussian, seededRandom, shuffleInPlace } from './random.js';
import type { DenseLayer } from './onnxExport.js';

export interface TrainOptions {
  sizes: number[]; // e.g. [784, 10] (logistic regression) or [784, 64, 10]
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

interface Layer {
  w: Float64Array; // [in, out] row-major
  b: Float64Array;
  in: number;
  out: number;
}

export class Mlp {
  private readonly layers: Layer[];

  constructor(sizes: number[], random: () => number) {
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const inN = sizes[i]!;
      const outN = sizes[i + 1]!;
      const w = new Float64Array(inN * outN);
      const std = Math.sqrt(2 / inN); // He init for ReLU layers; harmless for the last one
      for (let k = 0; k < w.length; k++) w[k] = gaussian(random, std);
      this.layers.push({ w, b: new Float64Array(outN), in: inN, out: outN });
    }
  }

  /** Activations of every layer (post-ReLU for hidden, softmax probabilities for the last). */
  forward(x: Float32Array | Float64Array): Float64Array[] {
    const acts: Float64Array[] = [Float64Array.from(x)];
    this.layers.forEach((layer, li) => {
      const input = acts[acts.length - 1]!;
      const out = new Float64Array(layer.out);
      out.set(layer.b);
      for (let i = 0; i < layer.in; i++) {
        const xi = input[i]!;
        if (xi === 0) continue; // MNIST is mostly zeros
        const row = i * layer.out;
        for (let j = 0; j < layer.out; j++) out[j]! += xi * layer.w[row + j]!;
      }
      if (li < this.layers.length - 1) {
        for (let j = 0; j < out.length; j++) if (out[j]! < 0) out[j] = 0;
      } else {
        softmaxInPlace(out);
      }
      acts.push(out);
    });
    return acts;
  }

  predict(x: Float32Array): number {
    const probs = this.forward(x).pop()!;
    let best = 0;
    for (let j = 1; j < probs.length; j++) if (probs[j]! > probs[best]!) best = j;
    return best;
  }

  train(samples: { pixels: Float32Array; label: number }[], opts: TrainOptions, random: () => number): void {
    const order = samples.map((_, i) => i);
    const gradW = this.layers.map((l) => new Float64Array(l.w.length));
    const gradB = this.layers.map((l) => new Float64Array(l.b.length));
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      shuffleInPlace(order, random);
      const lr = opts.learningRate / (1 + epoch * 0.5);
      for (let start = 0; start < order.length; start += opts.batchSize) {
        const batch = order.slice(start, start + opts.batchSize);
        gradW.forEach((g) => g.fill(0));
        gradB.forEach((g) => g.fill(0));
        for (const idx of batch) this.accumulate(samples[idx]!, gradW, gradB);
        const scale = lr / batch.length;
        this.layers.forEach((layer, li) => {
          const gw = gradW[li]!;
          const gb = gradB[li]!;
          for (let k = 0; k < layer.w.length; k++) layer.w[k]! -= scale * gw[k]!;
          for (let k = 0; k < layer.b.length; k++) layer.b[k]! -= scale * gb[k]!;
        });
      }
    }
  }

  private accumulate(sample: { pixels: Float32Array; label: number }, gradW: Float64Array[], gradB: Float64Array[]): void {
    const acts = this.forward(sample.pixels);
    // dL/dz for softmax + cross-entropy is (p - onehot).
    let delta = Float64Array.from(acts[acts.length - 1]!);
    delta[sample.label]! -= 1;
    for (let li = this.layers.length - 1; li >= 0; li--) {
      const layer = this.layers[li]!;
      const input = acts[li]!;
      const gw = gradW[li]!;
      const gb = gradB[li]!;
      for (let j = 0; j < layer.out; j++) gb[j]! += delta[j]!;
      const prev = li > 0 ? new Float64Array(layer.in) : null;
      for (let i = 0; i < layer.in; i++) {
        const xi = input[i]!;
        const row = i * layer.out;
        if (xi !== 0) for (let j = 0; j < layer.out; j++) gw[row + j]! += xi * delta[j]!;
        if (prev && xi > 0) {
          // ReLU passes gradient only where its output was positive.
          let s = 0;
          for (let j = 0; j < layer.out; j++) s += layer.w[row + j]! * delta[j]!;
          prev[i] = s;
        }
      }
      if (prev) delta = prev;
    }
  }

  toDenseLayers(): DenseLayer[] {
    return this.layers.map((l, i) => ({
      weights: Float32Array.from(l.w),
      bias: Float32Array.from(l.b),
      inputs: l.in,
      outputs: l.out,
      relu: i < this.layers.length - 1,
    }));
  }
}

function softmaxInPlace(v: Float64Array): void {
  let max = -Infinity;
  for (const x of v) if (x > max) max = x;
  let sum = 0;
  for (let j = 0; j < v.length; j++) {
    v[j] = Math.exp(v[j]! - max);
    sum += v[j]!;
  }
  for (let j = 0; j < v.length; j++) v[j]! /= sum;
}

export function trainMlp(samples: { pixels: Float32Array; label: number }[], opts: TrainOptions): Mlp {
  const random = seededRandom(opts.seed);
  const net = new Mlp(opts.sizes, random);
  net.train(samples, opts, random);
  return net;
}
