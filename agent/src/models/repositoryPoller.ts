// Triton's poll mode (--repository-poll-s N): every N seconds, models whose folder changed
// (config.json, a version folder, a model file) are loaded again, new folders are loaded, and
// models whose folder is gone are unloaded. A change is tried once: a load that fails is logged
// and not retried until the files change again.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { isValidModelName } from '../repository/names.js';
import { isFolder, modelFingerprint } from '../repository/scanRepository.js';
import type { Clock, Timer } from '../time/clock.js';
import type { LoadOptions, ModelManager } from './modelManager.js';

export interface PollerOptions {
  repository: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Load options for a model: the versions a running canary needs (such a model is never unloaded). */
  loadOptions(model: string): LoadOptions;
}

export class RepositoryPoller {
  private timer: Timer | undefined;
  private readonly tried = new Map<string, string>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly models: ModelManager,
    private readonly opts: PollerOptions,
  ) {}

  start(): void {
    const tick = () => {
      this.timer = this.opts.clock.setTimer(this.opts.intervalMs, () => {
        void this.pollOnce().finally(() => this.timer && tick());
      });
    };
    tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One pass over the repository; resolves when the loads and unloads it started are done. */
  pollOnce(): Promise<void> {
    this.running ??= this.poll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async poll(): Promise<void> {
    const { repository, logger } = this.opts;
    let folders: string[];
    try {
      folders = readdirSync(repository).filter((name) => !name.startsWith('.') && isValidModelName(name) && isFolder(join(repository, name)));
    } catch (err) {
      logger.warn('cannot read the model repository; will try again', { models: repository, error: (err as Error).message });
      return;
    }
    const work: Promise<void>[] = [];
    for (const name of folders) {
      const now = modelFingerprint(join(repository, name));
      // A folder that comes back after it was removed (unloaded) is loaded again, even unchanged.
      const returned = this.tried.get(name) === 'missing';
      if (!returned && (now === this.models.fingerprintOf(name) || now === this.tried.get(name))) continue;
      const options = this.opts.loadOptions(name);
      this.tried.set(name, now);
      logger.info('model files changed; loading', { model: name });
      work.push(this.models.load(name, options).catch((err: Error) => logger.error('model reload failed', { model: name, error: err.message })));
    }
    for (const name of this.models.names()) {
      if (folders.includes(name) || this.tried.get(name) === 'missing') continue;
      if (this.opts.loadOptions(name).keepVersions?.length) continue;
      this.tried.set(name, 'missing');
      work.push(this.models.unload(name, 'its folder was removed from the repository').catch((err: Error) => logger.error('model unload failed', { model: name, error: err.message })));
    }
    await Promise.all(work);
  }
}
