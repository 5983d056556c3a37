// Canaries and promoted default versions, persisted in the agent's state folder so that history
// and promotions survive restarts. Files are replaced atomically (write, then rename).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Canary } from '../../../common/api.js';

interface StateFile {
  canaries: Canary[];
  /** Model → default version chosen by a promotion. */
  defaults: Record<string, string>;
}

/** What the controller needs from persistence (the simulation keeps it in memory). */
export interface CanaryPersistence {
  readonly canaries: Canary[];
  readonly defaults: Record<string, string>;
  save(canary: Canary, promotedDefault?: { model: string; version: string }): void;
}

export class CanaryStore implements CanaryPersistence {
  private state: StateFile = { canaries: [], defaults: {} };
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'canaries.json');
    if (existsSync(this.file)) {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<StateFile>;
      this.state = { canaries: raw.canaries ?? [], defaults: raw.defaults ?? {} };
    }
  }

  get canaries(): Canary[] {
    return this.state.canaries;
  }

  get defaults(): Record<string, string> {
    return this.state.defaults;
  }

  /** Saves a canary (inserted or replaced by id) and, for a promotion, the new default. */
  save(canary: Canary, promotedDefault?: { model: string; version: string }): void {
    const i = this.state.canaries.findIndex((c) => c.id === canary.id);
    if (i >= 0) this.state.canaries[i] = canary;
    else this.state.canaries.push(canary);
    if (promotedDefault) this.state.defaults[promotedDefault.model] = promotedDefault.version;
    this.flush();
  }

  private flush(): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    renameSync(tmp, this.file);
  }
}
