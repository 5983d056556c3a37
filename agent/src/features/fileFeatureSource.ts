// The embedded feature store: vectors in a file beside the model. index.json names the entity ids,
// the vector length, the element type and a scale; vectors are stored row by row in `data`.
// (The demo stores MNIST pixels as bytes, scale 1/255: a quarter of float32's size.)
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { describeZodIssues } from '../config/zodIssues.js';
import { ConfigError } from '../errors.js';
import type { FeatureSource, FetchedFeature } from './featureSource.js';

const indexSchema = z
  .object({
    dtype: z.enum(['uint8', 'float32']),
    scale: z.number().positive().default(1),
    dim: z.int().min(1),
    ids: z.array(z.string().min(1)),
    data: z.string().min(1),
  })
  .strict();

export class FileFeatureSource implements FeatureSource {
  readonly kind = 'file' as const;
  private readonly rows = new Map<string, number>();
  private readonly dim: number;
  private readonly values: Float32Array;

  constructor(readonly name: string, indexFile: string) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(indexFile, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${indexFile}: cannot read the feature index (${(err as Error).message})`);
    }
    const parsed = indexSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`${indexFile}: ${describeZodIssues(parsed.error)}`);
    const index = parsed.data;
    const dir = dirname(indexFile);
    const dataFile = resolve(dir, index.data);
    if (!dataFile.startsWith(dir + sep)) throw new ConfigError(`${indexFile}: field 'data' must name a file in ${dir}`);
    const bytes = readFileSync(dataFile);
    const width = index.dtype === 'uint8' ? 1 : 4;
    if (bytes.length !== index.ids.length * index.dim * width) {
      throw new ConfigError(`${dataFile}: holds ${bytes.length} bytes; ${index.ids.length} ids × ${index.dim} × ${width} need ${index.ids.length * index.dim * width}`);
    }
    this.dim = index.dim;
    this.values = new Float32Array(index.ids.length * index.dim);
    for (let i = 0; i < this.values.length; i++) {
      this.values[i] = (index.dtype === 'uint8' ? bytes[i]! : bytes.readFloatLE(i * 4)) * index.scale;
    }
    index.ids.forEach((id, row) => this.rows.set(id, row));
  }

  static fromConfig(modelDir: string, path: string): FileFeatureSource {
    const file = resolve(modelDir, path);
    if (!file.startsWith(resolve(modelDir) + sep)) throw new ConfigError(`features.path "${path}" must stay inside ${modelDir}`);
    return new FileFeatureSource(`file:${join(path)}`, file);
  }

  async getMany(ids: string[]): Promise<Map<string, FetchedFeature | null>> {
    const out = new Map<string, FetchedFeature | null>();
    for (const id of ids) {
      const row = this.rows.get(id);
      out.set(id, row === undefined ? null : { vector: this.values.slice(row * this.dim, (row + 1) * this.dim) });
    }
    return out;
  }

  async close(): Promise<void> {}
}
