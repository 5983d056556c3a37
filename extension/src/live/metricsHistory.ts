// The Metrics panel's history, kept on the extension side so a view that was hidden (or reloaded)
// shows the last minutes at once. Fed one observation per snapshot while a Metrics view (sidebar or
// dashboard) is visible.
import type { AgentStatus } from '../../../common/api.js';
import type { Bucket } from '../../../common/histogramQuantile.js';
import { parsePromText } from '../../../common/promText.js';
import { SeriesWindow, type SeriesPoint } from '../../../common/timeSeries.js';
import { batchSizeDistribution, panelPoint, type Observation } from './panelMetrics.js';
import type { RequestRates } from './requestRate.js';

/** 15 minutes at one snapshot per second: the dashboard's longest range (the sidebar shows up to 5). */
export const HISTORY_POINTS = 900;

export class MetricsHistory {
  readonly window = new SeriesWindow(HISTORY_POINTS);
  batchSizes: Record<string, Bucket[]> = {};
  private prev: Observation | undefined;

  /** Adds one observation (with the request rates the status bar shows, taken with the snapshot); returns the new point. */
  ingest(status: AgentStatus, metricsText: string, t: number, rates?: RequestRates): SeriesPoint {
    const cur: Observation = { t, status, scrape: parsePromText(metricsText) };
    const point = panelPoint(cur, this.prev, rates);
    this.prev = cur;
    this.window.push(point);
    this.batchSizes = batchSizeDistribution(status, cur.scrape);
    return point;
  }

  /** After a gap (the panel was hidden), rates restart from the next pair of observations. */
  forgetPrevious(): void {
    this.prev = undefined;
  }
}
