// Triton's explicit model control (load, unload, the repository index) as REST and gRPC both offer
// it: which load parameters are taken, and what a running canary allows. The transports parse
// their requests into plain values and call this, so the two doors follow one set of rules.
import type { Canary, RepositoryIndexEntry } from '../../../common/api.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import type { LoadOptions, ModelManager } from './modelManager.js';

/** A load or unload parameter's value: REST sends JSON scalars, gRPC may also send bytes. */
export type RepositoryParameter = string | number | boolean | Uint8Array;

export class ModelControl {
  constructor(
    private readonly models: Pick<ModelManager, 'load' | 'unload' | 'index'>,
    private readonly canaries: { list(): Canary[] },
  ) {}

  /**
   * Reads the model from the repository again, with `config` (a config.json text) instead of the
   * file if given. A running canary's two versions must survive the load.
   */
  async load(model: string, parameters: Record<string, RepositoryParameter> = {}): Promise<void> {
    const configText = configTextOf(parameters);
    const canary = this.runningCanary(model);
    const options: LoadOptions = {
      ...(configText !== undefined ? { configText } : {}),
      ...(canary ? { keepVersions: [canary.baseline, canary.candidate] } : {}),
    };
    await this.models.load(model, options);
  }

  /** Refused while a canary runs on the model: it would lose both of its versions. */
  async unload(model: string): Promise<void> {
    const canary = this.runningCanary(model);
    if (canary) throw new ConflictError(`canary ${canary.id} is running on ${model}; abort it (DELETE /api/v1/canaries/${canary.id}) before unloading`);
    await this.models.unload(model);
  }

  /** Every model version with its state; `onlyReady` keeps those that are READY. */
  index(onlyReady = false): RepositoryIndexEntry[] {
    const entries = this.models.index();
    return onlyReady ? entries.filter((e) => e.state === 'READY') : entries;
  }

  private runningCanary(model: string): Canary | undefined {
    return this.canaries.list().find((c) => c.state === 'running' && c.model === model);
  }
}

/** The `config` parameter's text; throws for anything else (`file:` contents above all). */
export function configTextOf(parameters: Record<string, RepositoryParameter>): string | undefined {
  const names = Object.keys(parameters);
  const files = names.filter((k) => k.startsWith('file:'));
  if (files.length) throw new InvalidInputError(`model files in the request (${files.join(', ')}) are not supported; put them in the repository folder and load again`);
  const unknown = names.filter((k) => k !== 'config');
  if (unknown.length) throw new InvalidInputError(`unknown load parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; Inferscope takes 'config'`);
  const config = parameters.config;
  if (config !== undefined && typeof config !== 'string') throw new InvalidInputError(`parameter 'config' must be the config.json text, as a string`);
  return config;
}
