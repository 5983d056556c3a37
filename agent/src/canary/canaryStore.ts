// Canaries and promoted default versions, persisted in the agent's state folder so that history
// and promotions survive restarts. Files are replaced atomically (write, then rename).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Canary } from '../../../common/api.js';
import { withoutCredentials } from './prometheusUrls.js';

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

  /** `warn` hears about a state file that could not be read (it is renamed aside and the agent starts empty). */
  constructor(
    private readonly dir: string,
    warn: (message: string) => void = () => {},
  ) {
    this.file = join(dir, 'canaries.json');
    if (existsSync(this.file)) {
      try {
        this.state = parseStateFile(readFileSync(this.file, 'utf8'));
      } catch (err) {
        const aside = `${this.file}.corrupt-${Date.now()}`;
        renameSync(this.file, aside);
        warn(`${this.file} could not be read (${(err as Error).message}); moved it to ${aside} and started with no canary history`);
      }
      // Agents before the Prometheus allowlist kept a source URL as the client sent it, password and all.
      const stripped = this.state.canaries.map(stripCredentials);
      if (stripped.some((c, i) => c !== this.state.canaries[i])) {
        this.state.canaries = stripped;
        try {
          this.flush();
        } catch (err) {
          warn(`${this.file} holds credentials in a Prometheus URL and could not be rewritten without them (${(err as Error).message})`);
        }
      }
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
    canary = stripCredentials(canary); // the controller never puts them in; never store them regardless
    const i = this.state.canaries.findIndex((c) => c.id === canary.id);
    if (i >= 0) this.state.canaries[i] = canary;
    else this.state.canaries.push(canary);
    if (promotedDefault) this.state.defaults[promotedDefault.model] = promotedDefault.version;
    this.flush();
  }

  private flush(): void {
    // Owner only: the file names models and versions, and the folder is the agent's alone.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 1), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/** The canary with its Prometheus URL's userinfo removed (the same object when there is none). */
function stripCredentials(c: Canary): Canary {
  if (c.source?.kind !== 'prometheus' || typeof c.source.url !== 'string') return c;
  const url = withoutCredentials(c.source.url);
  return url === c.source.url ? c : { ...c, source: { kind: 'prometheus', url } };
}

/** The state file's shape, checked: a file edited by hand or cut short must not stop the agent. */
function parseStateFile(text: string): StateFile {
  const raw = JSON.parse(text) as unknown;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) throw new Error('not a JSON object');
  const { canaries = [], defaults = {} } = raw;
  if (!Array.isArray(canaries) || !canaries.every((c) => isObject(c) && typeof c.id === 'string' && typeof c.model === 'string' && typeof c.state === 'string' && Array.isArray(c.checks))) {
    throw new Error("'canaries' is not a list of canaries");
  }
  if (!isObject(defaults) || !Object.values(defaults).every((v) => typeof v === 'string')) throw new Error("'defaults' is not an object of versions");
  return { canaries: canaries as unknown as Canary[], defaults: defaults as Record<string, string> };
}
