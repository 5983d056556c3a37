// Canaries and promoted default versions, persisted in the agent's state folder so that history
// and promotions survive restarts. Files are replaced atomically (write, then rename).
//
// Writes are off the request path: a save marks the state dirty and one asynchronous write, at
// most every `minIntervalMs`, carries all saves since the last (a canary checking every 50 ms must
// not rewrite the file 20 times a second). A promotion is the exception: it is written at once and
// synchronously, and throws if it cannot be, because it must not take effect only in memory.
// History is bounded: the `keep` most recent canaries (running ones always) in memory and on disk.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Canary } from '../../../common/api.js';
import { systemClock, type Clock, type Timer } from '../time/clock.js';
import { withoutCredentials } from '../../../common/prometheusUrl.js';

// Owner only: the file names models and versions, and the folder is the agent's alone.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

interface StateFile {
  canaries: Canary[];
  /** Model → default version chosen by a promotion. */
  defaults: Record<string, string>;
}

/** What the controller needs from persistence (the simulation keeps it in memory). */
export interface CanaryPersistence {
  readonly canaries: Canary[];
  readonly defaults: Record<string, string>;
  /** Throws if a promotion cannot be persisted; other saves may be written later. */
  save(canary: Canary, promotedDefault?: { model: string; version: string }): void;
}

export interface CanaryStoreOptions {
  /** Drives the coalescing timer (tests pass a fake one). */
  clock?: Clock;
  /** Canaries kept, the oldest ended ones dropped first (default 100). */
  keep?: number;
  /** Least time between two writes of the file (default 1000 ms). */
  minIntervalMs?: number;
}

export class CanaryStore implements CanaryPersistence {
  private state: StateFile = { canaries: [], defaults: {} };
  private readonly file: string;
  private readonly clock: Clock;
  private readonly keep: number;
  private readonly minIntervalMs: number;
  private dirty = false;
  private timer: Timer | undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = -Infinity;
  /** Bumped by every synchronous write, so an asynchronous one begun before it does not replace it. */
  private syncWrites = 0;
  private failing = false;
  private closed = false;
  private tmpSeq = 0;
  /**
   * Whether the folder was made (or found). Not made again on every write: a folder removed under
   * a pending write (a test cleaning up) stays removed; the write after the failed one makes it.
   */
  private dirMade = false;

  /** `warn` hears about a state file that could not be read (it is renamed aside and the agent starts empty) or written. */
  constructor(
    private readonly dir: string,
    private readonly warn: (message: string) => void = () => {},
    options: CanaryStoreOptions = {},
  ) {
    this.file = join(dir, 'canaries.json');
    this.clock = options.clock ?? systemClock;
    this.keep = options.keep ?? 100;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    if (existsSync(this.file)) {
      this.dirMade = true;
      try {
        this.state = parseStateFile(readFileSync(this.file, 'utf8'));
      } catch (err) {
        const aside = `${this.file}.corrupt-${Date.now()}`;
        renameSync(this.file, aside);
        warn(`${this.file} could not be read (${(err as Error).message}); moved it to ${aside} and started with no canary history`);
      }
      this.prune();
      // Agents before the Prometheus allowlist kept a source URL as the client sent it, password and all.
      const stripped = this.state.canaries.map(stripCredentials);
      if (stripped.some((c, i) => c !== this.state.canaries[i])) {
        this.state.canaries = stripped;
        try {
          this.writeNow();
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

  /**
   * Saves a canary (inserted or replaced by id). With a promotion's new default, writes at once and
   * throws if it cannot; otherwise the file follows within about `minIntervalMs`.
   */
  save(canary: Canary, promotedDefault?: { model: string; version: string }): void {
    canary = stripCredentials(canary); // the controller never puts them in; never store them regardless
    const i = this.state.canaries.findIndex((c) => c.id === canary.id);
    if (i >= 0) this.state.canaries[i] = canary;
    else this.state.canaries.push(canary);
    this.prune();
    if (promotedDefault) {
      const before = this.state.defaults[promotedDefault.model];
      this.state.defaults[promotedDefault.model] = promotedDefault.version;
      try {
        this.writeNow();
      } catch (err) {
        // Not promoted after all: a later write must not persist this default either.
        if (before === undefined) delete this.state.defaults[promotedDefault.model];
        else this.state.defaults[promotedDefault.model] = before;
        throw err;
      }
      return;
    }
    this.dirty = true;
    if (!this.closed) return this.schedule();
    try {
      this.writeNow(); // stopping: no later write would carry it
    } catch (err) {
      this.warn(`${this.file} could not be written (${(err as Error).message}); canary history may be lost at restart`);
    }
  }

  /** Writes what is pending and waits for it (and for a write already under way). */
  async flush(): Promise<void> {
    while (this.writing || this.dirty) {
      this.timer?.cancel();
      this.timer = undefined;
      this.writing ??= this.write();
      await this.writing;
      if (this.failing) return; // already reported; retrying at once would not help
    }
  }

  /** Resolves when the write under way, if any, has ended (without starting one). */
  settled(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  /** Flushes, then writes every later save synchronously (the agent is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.timer || this.writing || this.closed) return; // the running write reschedules when it ends
    const delay = Math.max(0, this.lastWriteAt + this.minIntervalMs - this.clock.now());
    this.timer = this.clock.setTimer(delay, () => {
      this.timer = undefined;
      this.writing = this.write();
    });
  }

  private async write(): Promise<void> {
    this.dirty = false;
    this.lastWriteAt = this.clock.now();
    const syncWrites = this.syncWrites;
    const text = JSON.stringify(this.state, null, 1);
    const tmp = `${this.file}.${process.pid}.${++this.tmpSeq}.tmp`;
    try {
      if (!this.dirMade) await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
      this.dirMade = true;
      await writeFile(tmp, text, { mode: FILE_MODE });
      if (this.syncWrites !== syncWrites) {
        await unlink(tmp); // a promotion wrote newer state meanwhile
      } else {
        await rename(tmp, this.file);
        // A promotion written while the rename ran may have been replaced by this older state.
        if (this.syncWrites !== syncWrites) this.dirty = true;
      }
      if (this.failing) this.warn(`${this.file} is written again`);
      this.failing = false;
    } catch (err) {
      await unlink(tmp).catch(() => {});
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.dirMade = false;
      this.dirty = true; // the next save (or close) tries again
      if (!this.failing) this.warn(`${this.file} could not be written (${(err as Error).message}); canary history may be lost at restart`);
      this.failing = true;
    } finally {
      this.writing = undefined;
    }
    if (this.dirty && !this.failing) this.schedule();
  }

  private writeNow(): void {
    mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
    this.dirMade = true;
    const tmp = `${this.file}.${process.pid}.${++this.tmpSeq}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.state, null, 1), { mode: FILE_MODE });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.syncWrites++;
    this.dirty = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Drops the oldest ended canaries beyond `keep`. */
  private prune(): void {
    let excess = this.state.canaries.length - this.keep;
    if (excess <= 0) return;
    this.state.canaries = this.state.canaries.filter((c) => c.state === 'running' || excess-- <= 0);
  }
}

/** The canary with its Prometheus URL's userinfo removed (the same object when there is none). */
function stripCredentials(c: Canary): Canary {
  if (c.source?.kind !== 'prometheus' || typeof c.source.url !== 'string') return c;
  const url = withoutCredentials(c.source.url);
  return url === c.source.url ? c : { ...c, source: { ...c.source, url } };
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
