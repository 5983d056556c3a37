// The Metrics webviews' shared data: one scrape of /metrics per snapshot while any of them (the
// sidebar view, the dashboard) is visible, one history both show, and a point event each posts to
// its webview. Nothing is scraped while none is visible. Also the model selected in the Models tree,
// which both show.
import type { AgentStatus, CanarySummary, GpuStatus } from '../../../common/api.js';
import type { Bucket } from '../../../common/histogramQuantile.js';
import type { SeriesPoint } from '../../../common/timeSeries.js';
import { Emitter } from '../emitter.js';
import type { Services } from '../services.js';
import { fleetGpuStatus } from '../fleet/fleetGpus.js';
import { MetricsHistory } from './metricsHistory.js';

export interface FeedPoint {
  point: SeriesPoint;
  status: AgentStatus;
  batchSizes: Record<string, Bucket[]>;
}

export class MetricsFeed {
  readonly history = new MetricsHistory();
  readonly onPoint = new Emitter<FeedPoint>();
  readonly onSelect = new Emitter<string>();
  /** The history was emptied (the charts' scope changed: fleet or one replica); views take the full state again. */
  readonly onReset = new Emitter<void>();
  private _selectedModel: string | undefined;
  private readonly visible = new Set<string>();
  private scraping = false;
  private readonly past = new Map<string, CanarySummary>();
  private readonly sub: { dispose(): void };
  /** On a fleet: the GPU section's state from the last point (fleet/fleetGpus.ts). */
  private fleetGpus: GpuStatus | undefined;

  constructor(private readonly s: Services) {
    this.sub = s.live.onSnapshot.event((status) => {
      this.keepCanaries(status);
      void this.tick(status);
    });
    this.scopeSub = s.fleet?.onDidChangeScope.event(() => this.resetHistory());
  }

  private readonly scopeSub: { dispose(): void } | undefined;

  /** Empties the history: points of another scope (the fleet, one replica) must not join its lines. */
  private resetHistory(): void {
    this.history.window.times.length = 0;
    this.history.window.series.clear();
    this.history.batchSizes = {};
    this.history.forgetPrevious();
    this.fleetGpus = undefined;
    this.onReset.fire();
  }

  /**
   * Canaries that ended, newest first (at most 10), from every snapshot seen: the panel lists them
   * while the agent is down (a restarted agent no longer knows them).
   */
  get pastCanaries(): CanarySummary[] {
    return [...this.past.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : -1));
  }

  private keepCanaries(status: AgentStatus): void {
    for (const c of status.canaries ?? []) if (c.state !== 'running') this.past.set(c.id, c);
    while (this.past.size > 10) this.past.delete(this.pastCanaries.at(-1)!.id);
  }

  /** The status as the views show it: on a fleet, the GPUs of the charted replica (or none), not of the replica that answered. */
  viewStatus(status: AgentStatus): AgentStatus {
    return this.s.fleet?.metricsSource() ? { ...status, gpus: this.fleetGpus ?? fleetGpuStatus() } : status;
  }

  /** A view's visibility: live data flows (and the history grows) while any is visible. */
  setVisible(viewId: string, isVisible: boolean): void {
    if (isVisible) this.visible.add(viewId);
    else this.visible.delete(viewId);
    this.s.live.setVisible(viewId, isVisible);
    // After a gap, rates restart from the next pair of observations.
    if (this.visible.size === 0) this.history.forgetPrevious();
  }

  get selectedModel(): string | undefined {
    return this._selectedModel;
  }

  /** A model selected in the Models tree: the per-model charts of every Metrics view show it. */
  select(model: string): void {
    if (model === this._selectedModel) return;
    this._selectedModel = model;
    this.onSelect.fire(model);
  }

  get active(): boolean {
    return this.visible.size > 0;
  }

  private async tick(status: AgentStatus): Promise<void> {
    if (!this.active || this.scraping) return;
    this.scraping = true;
    // The rates of this snapshot (the status bar's), read before the scrape's await.
    const rates = this.s.live.requestRates;
    try {
      // A fleet (inferscope.fleet.prometheusUrl): the point is PromQL over every replica (fleet/fleetMetrics.ts).
      const fleet = this.s.fleet?.metricsSource();
      if (fleet) {
        await this.s.fleet!.current();
        const scope = fleet.replica;
        const { point, batchSizes, gpus } = await fleet.point(status, Date.now());
        // The setting or the scope (fleet, one replica) changed while the queries ran: not this history's point.
        if (this.s.agent.state.kind !== 'ready' || this.s.fleet?.metricsSource() !== fleet || fleet.replica !== scope) return;
        this.history.window.push(point);
        this.history.batchSizes = batchSizes;
        this.fleetGpus = gpus;
        this.onPoint.fire({ point, status: this.viewStatus(status), batchSizes });
        return;
      }
      const text = await this.s.client.metricsText();
      // The agent may have stopped or been replaced while the scrape ran: a stale tick would
      // bring a dead agent's numbers back after the 'stopped' message.
      const state = this.s.agent.state;
      if (state.kind !== 'ready' || (this.s.agent.mode.kind === 'local' && state.pid !== status.agent.pid)) return;
      const point = this.history.ingest(status, text, Date.now(), rates);
      this.onPoint.fire({ point, status, batchSizes: this.history.batchSizes });
    } catch (err) {
      this.s.log.debug(`metrics: scrape failed: ${(err as Error).message}`);
    } finally {
      this.scraping = false;
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.scopeSub?.dispose();
    this.onReset.dispose();
    this.onPoint.dispose();
    this.onSelect.dispose();
  }
}
