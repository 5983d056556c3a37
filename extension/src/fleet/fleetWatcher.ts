// The extension's picture of the fleet (setting inferscope.fleet.prometheusUrl): re-read from
// Prometheus every few seconds while a view that shows it is visible (the Models tree, the Metrics
// views), never while none is. Holds the Prometheus-fed source of the Metrics panel's points and
// the replica whose charts to show alone (per-replica on demand), and the fleet's request rate
// (the status bar's). Credentials: the stored ones for the URL, else the URL's own userinfo
// (fleet/prometheusAuth.ts). No VS Code imports.
import { Emitter } from '../emitter.js';
import { FleetMetrics, fleetRequestRate } from './fleetMetrics.js';
import { readFleet, type FleetView } from './fleetTargets.js';
import { prometheusTarget, type PrometheusTarget } from './prometheusAuth.js';
import { PrometheusClient, PrometheusError } from './prometheusQuery.js';

export interface FleetWatcherOptions {
  /** The setting's value now ('' : no fleet). */
  prometheusUrl(): string;
  /** The stored Authorization header for a Prometheus (by its URL without credentials), if any. */
  credentials?(url: string): Promise<string | undefined>;
  /** How long that read may take before the fleet is read without it (default 5 s). */
  credentialsTimeoutMs?: number;
  pollMs?: number;
  log?(message: string): void;
}

export class FleetWatcher {
  readonly onDidChange = new Emitter<FleetView | undefined>();
  /** The Metrics charts' scope changed (the whole fleet, or one replica): their history starts again. */
  readonly onDidChangeScope = new Emitter<string | undefined>();
  /** The fleet's request rate changed (kept apart from onDidChange: the tree must not redraw every poll). */
  readonly onDidChangeRate = new Emitter<number | undefined>();
  private prom: PrometheusClient | undefined;
  private target: PrometheusTarget | undefined;
  private credentialsRead: Promise<void> = Promise.resolve();
  /** Bumped when the URL or the credentials change: a read begun before answers nobody. */
  private generation = 0;
  private _requestsPerSecond: number | undefined;
  private source: FleetMetrics | undefined;
  private _view: FleetView | undefined;
  private _error: string | undefined;
  private _authFailed = false;
  private readonly visible = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<FleetView | undefined> | undefined;
  private disposed = false;

  constructor(private readonly opts: FleetWatcherOptions) {
    this.configure();
  }

  /** A Prometheus URL is set: the views show the fleet. */
  get enabled(): boolean {
    return this.prom !== undefined;
  }

  get view(): FleetView | undefined {
    return this._view;
  }

  /** Why the last read failed (Prometheus unreachable, not a Prometheus, …), until one succeeds. */
  get error(): string | undefined {
    return this._error;
  }

  get prometheus(): PrometheusClient | undefined {
    return this.prom;
  }

  /** Why the setting is not a usable Prometheus URL (the setting itself never quoted), if it is not. */
  get settingProblem(): string | undefined {
    return this.target?.problem;
  }

  /** The last read failed with 401/403: credentials missing or refused. */
  get authFailed(): boolean {
    return this._error !== undefined && this._authFailed;
  }

  /** Requests per second over every replica (the Metrics charts' PromQL, summed over models), as last read. */
  get requestsPerSecond(): number | undefined {
    return this._requestsPerSecond;
  }

  /** The Metrics panel's Prometheus-fed source while a fleet is set, else undefined (the one agent's scrapes). */
  metricsSource(): FleetMetrics | undefined {
    return this.source;
  }

  /** The instance whose charts the Metrics views show alone; undefined: the whole fleet. */
  get chartsReplica(): string | undefined {
    return this.source?.replica;
  }

  /** Per-replica charts on demand (a replica selected in the Models tree), or the fleet's again. */
  showReplica(instance: string | undefined): void {
    if (!this.source || this.source.replica === instance) return;
    this.source.replica = instance;
    this.onDidChangeScope.fire(instance);
    this.onDidChange.fire(this._view);
  }

  /** Re-reads the setting (on start and when it changes). */
  configure(): void {
    const setting = this.opts.prometheusUrl().trim();
    const target = setting ? prometheusTarget(setting) : undefined;
    if (JSON.stringify(target) === JSON.stringify(this.target)) return;
    this.target = target;
    this.prom = target ? new PrometheusClient(target.url) : undefined;
    this.source = this.prom ? new FleetMetrics(this.prom, () => this._view?.scrapeIntervalS ?? 15) : undefined;
    this._view = undefined;
    this._error = undefined;
    this.setRate(undefined);
    this.generation++;
    this.reading = undefined; // a read of the old URL in flight answers nobody now
    this.loadCredentials();
    // Another source for the charts: one agent's scrapes and the fleet's PromQL must not share lines.
    this.onDidChangeScope.fire(undefined);
    this.onDidChange.fire(undefined);
    this.schedule(0);
  }

  setVisible(viewId: string, isVisible: boolean): void {
    if (isVisible) this.visible.add(viewId);
    else this.visible.delete(viewId);
    if (isVisible && this.timer === undefined) this.schedule(0);
  }

  /** The credentials were set or cleared: read them again, then the fleet with them. */
  async credentialsChanged(): Promise<FleetView | undefined> {
    if (!this.prom) return undefined;
    this.generation++;
    this.reading = undefined;
    this.loadCredentials();
    return this.refresh();
  }

  /** The stored credentials win over the URL's userinfo. */
  private loadCredentials(): void {
    const prom = this.prom;
    const target = this.target;
    if (!prom || !target) return;
    const use = (stored: string | undefined) => {
      prom.authorization = stored ?? target.authorization;
      prom.credentialSource = stored ? 'stored' : target.authorization ? 'url' : undefined;
    };
    // A secret store that fails or never answers (a locked keyring waiting on its prompt) must not
    // stop the fleet's reads: the URL's own credentials, if any, are used instead.
    const limitMs = this.opts.credentialsTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms`)), limitMs);
    });
    this.credentialsRead = Promise.race([this.opts.credentials?.(prom.url) ?? Promise.resolve(undefined), timeout])
      .then(use, (err: Error) => {
        use(undefined);
        this.opts.log?.(`fleet: cannot read the stored Prometheus credentials: ${err.message}`);
      })
      .finally(() => clearTimeout(timer));
  }

  private setRate(rps: number | undefined): void {
    if (rps === this._requestsPerSecond) return;
    this._requestsPerSecond = rps;
    this.onDidChangeRate.fire(rps);
  }

  /** Reads the fleet now (one read at a time: a caller during a read gets that read). */
  refresh(): Promise<FleetView | undefined> {
    if (!this.prom) return Promise.resolve(undefined);
    if (this.reading) return this.reading;
    const prom = this.prom;
    const generation = this.generation;
    const problem = this.target?.problem;
    const read = async () => {
      if (problem) throw new Error(problem);
      await this.credentialsRead;
      const view = await readFleet(prom);
      // The status bar's rate; its failure leaves the replicas shown.
      const rps = await fleetRequestRate(prom, view.scrapeIntervalS).catch(() => undefined);
      return { view, rps };
    };
    const reading = read()
      .then(
        ({ view, rps }) => {
          // The setting or the credentials changed while reading: the caller gets the newer read.
          if (generation !== this.generation) return this.refresh();
          this.setRate(rps);
          // Views redraw only when something changed (a tree redrawn every poll loses hover and clicks).
          const changed = this._error !== undefined || JSON.stringify(view) !== JSON.stringify(this._view);
          this._view = view;
          this._error = undefined;
          if (changed) this.onDidChange.fire(view);
          return view;
        },
        (err: Error) => {
          if (generation !== this.generation) return this.refresh();
          this.setRate(undefined);
          // As above: the views redraw when the error changes, not on every failed poll.
          const changed = this._error !== err.message || this._view !== undefined;
          if (this._error !== err.message) this.opts.log?.(`fleet: ${err.message}`);
          this._error = err.message;
          this._authFailed = err instanceof PrometheusError && err.kind === 'auth';
          this._view = undefined;
          if (changed) this.onDidChange.fire(undefined);
          return undefined;
        },
      )
      .finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
    this.reading = reading;
    return reading;
  }

  /** The fleet as last read, reading it first if it never was. */
  async current(): Promise<FleetView | undefined> {
    return this._view ?? (await this.refresh());
  }

  /** One polling loop at a time: a new schedule replaces the old loop (its pending read ends it). */
  private loop = 0;

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const loop = ++this.loop;
    if (this.disposed || !this.prom || this.visible.size === 0) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (loop === this.loop) this.schedule(this.opts.pollMs ?? 2000);
      });
    }, ms);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.onDidChange.dispose();
    this.onDidChangeScope.dispose();
    this.onDidChangeRate.dispose();
  }
}
