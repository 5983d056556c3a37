// Request bodies for test traffic: the model's own examples (models/<name>/examples/*.json holds
// real demo digits for the bundled model), else random inputs shaped from the model's metadata.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Datatype, InferRequest, ModelMetadata } from '../../../common/api.js';

export function exampleBodies(repository: string, model: string): InferRequest[] {
  const dir = join(repository, model, 'examples');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const bodies: InferRequest[] = [];
  for (const f of files) {
    try {
      const body = JSON.parse(readFileSync(join(dir, f), 'utf8')) as InferRequest;
      if (Array.isArray(body.inputs) && body.inputs.length > 0) bodies.push({ inputs: body.inputs });
    } catch {
      // not a request body: skip it
    }
  }
  return bodies;
}

/** One request of batch 1 with uniform random values in [0, 1) (or 0/1 for integers). */
export function randomBody(meta: ModelMetadata, random: () => number = Math.random): InferRequest {
  return {
    inputs: meta.inputs.map((t) => {
      const shape = t.shape.map((d) => (d < 0 ? 1 : d));
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: t.name, shape, datatype: t.datatype, data: Array.from({ length: n }, () => sample(t.datatype, random)) };
    }),
  };
}

function sample(dt: Datatype, random: () => number): number | boolean | string {
  if (dt === 'BOOL') return random() < 0.5;
  if (dt === 'BYTES') return 'test';
  if (dt.startsWith('FP')) return random();
  return random() < 0.5 ? 0 : 1;
}
