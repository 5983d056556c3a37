// The extension's picture of the fleet (setting inferscope.fleet.prometheusUrl): re-read from
// Prometheus every few seconds while a view that shows it is visible (the Models tree, the Metrics
// views), never while none is. Holds the Prometheus-fed source of the Metrics panel's points and
// the replica whose charts to show alone (per-replica on demand). No VS Code imports.
import { Emitter } from '../emitter.js';
import { FleetMetrics } from './fleetMetrics.js';
import { readFleet, type FleetView } from './fleetTargets.js';
import { PrometheusClient } from './prometheusQuery.js';

export interface FleetWatcherOptions {
  /** The setting's value now ('' : no fleet). */
  prometheusUrl(): string;
  pollMs?: number;
  log?(message: string): void;
}

export class FleetWatcher {
  readonly onDidChange = new Emitter<FleetView | undefined>();
  /** The Metrics charts' scope changed (the whole fleet, or one replica): their history starts again. */
  readonly onDidChangeScope = new Emitter<string | undefined>();
  private prom: PrometheusClient | undefined;
  private source: FleetMetrics | undefined;
  private _view: FleetView | undefined;
  private _error: string | undefined;
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
    const url = this.opts.prometheusUrl().trim().replace(/\/+$/, '');
    if (url === (this.prom?.url ?? '')) return;
    this.prom = url ? new PrometheusClient(url) : undefined;
    this.source = this.prom ? new FleetMetrics(this.prom, () => this._view?.scrapeIntervalS ?? 15) : undefined;
    this._view = undefined;
    this._error = undefined;
    this.reading = undefined; // a read of the old URL in flight answers nobody now
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

  /** Reads the fleet now (one read at a time: a caller during a read gets that read). */
  refresh(): Promise<FleetView | undefined> {
    if (!this.prom) return Promise.resolve(undefined);
    if (this.reading) return this.reading;
    const prom = this.prom;
    const reading = readFleet(prom)
      .then(
        (view) => {
          if (prom !== this.prom) return undefined; // the setting changed while reading
          // Views redraw only when something changed (a tree redrawn every poll loses hover and clicks).
          const changed = this._error !== undefined || JSON.stringify(view) !== JSON.stringify(this._view);
          this._view = view;
          this._error = undefined;
          if (changed) this.onDidChange.fire(view);
          return view;
        },
        (err: Error) => {
          if (prom !== this.prom) return undefined;
          // As above: the views redraw when the error changes, not on every failed poll.
          const changed = this._error !== err.message || this._view !== undefined;
          if (this._error !== err.message) this.opts.log?.(`fleet: ${err.message}`);
          this._error = err.message;
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
  }
}
