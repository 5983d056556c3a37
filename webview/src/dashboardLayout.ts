// Layout decisions of the Metrics webview, sidebar or dashboard: the time window the charts show,
// the chart height, and the dashboard's grid (how many columns, which sections span several). Pure
// (no DOM), so they are unit-tested under Node.
import type { PanelMode } from '../../common/panelProtocol.js';

/** The dashboard's time ranges, in minutes; the extension keeps 15 minutes of history. */
export const RANGES_MIN = [1, 5, 15] as const;
export type RangeMinutes = (typeof RANGES_MIN)[number];
export const DEFAULT_RANGE_MIN: RangeMinutes = 5;

/** A range read back from saved UI state (anything else: the default). */
export function parseRange(v: unknown): RangeMinutes {
  return RANGES_MIN.includes(v as RangeMinutes) ? (v as RangeMinutes) : DEFAULT_RANGE_MIN;
}

/**
 * The window a chart shows, ending now. The sidebar fits the history there is (1 to 5 minutes, in
 * 30 s steps); the dashboard shows exactly the selected range, so a range longer than the history
 * shows the history at the right and empty time at the left.
 */
export function chartWindowMs(mode: PanelMode, times: number[], rangeMin: number = DEFAULT_RANGE_MIN): number {
  if (mode === 'dashboard') return rangeMin * 60_000;
  const span = times.length > 1 ? times[times.length - 1]! - times[0]! : 0;
  return Math.min(5 * 60_000, Math.max(60_000, Math.ceil(span / 30_000) * 30_000));
}

/** Chart height in CSS pixels. */
export function chartHeight(mode: PanelMode): number {
  return mode === 'dashboard' ? 220 : 120;
}

/** The narrowest a dashboard column gets before the grid drops a column. */
export const MIN_COLUMN_PX = 360;
export const MAX_COLUMNS = 3;

/** Grid columns for a dashboard this wide (1 in a narrow editor, 2 from about 720 px, up to 3). */
export function gridColumns(widthPx: number): number {
  return Math.max(1, Math.min(MAX_COLUMNS, Math.floor(widthPx / MIN_COLUMN_PX)));
}

export interface SectionShape {
  id: string;
  /** Model versions the section shows side by side (latency and batching, one block per version). */
  versions: number;
}

/**
 * How many columns each section spans: the per-version sections take a column per version (versions
 * side by side), up to the whole row; the rest take one column.
 */
export function sectionSpans(columns: number, sections: SectionShape[]): Record<string, number> {
  const spans: Record<string, number> = {};
  for (const s of sections) spans[s.id] = PER_VERSION.has(s.id) ? Math.max(1, Math.min(columns, s.versions)) : 1;
  return spans;
}

/** Columns of version blocks inside a per-version section that spans `span` grid columns. */
export function versionColumns(span: number, versions: number): number {
  return Math.max(1, Math.min(span, versions));
}

const PER_VERSION = new Set(['latency']);

/**
 * The order of the sections. The sidebar is narrow and scrolls: the charts come first, then the
 * state cards (their collapsed headers still say "1 open", "running 25 %"). The dashboard has room
 * for everything at once and keeps what needs attention first.
 */
export function sectionOrder(mode: PanelMode): readonly string[] {
  return mode === 'sidebar' ? SIDEBAR_ORDER : DASHBOARD_ORDER;
}
const SIDEBAR_ORDER = ['agent', 'traffic', 'latency', 'batching', 'breakers', 'canary', 'cache', 'gpu'] as const;
const DASHBOARD_ORDER = ['agent', 'breakers', 'canary', 'traffic', 'latency', 'batching', 'cache', 'gpu'] as const;

/**
 * The sidebar shows a closed breaker as one line (state and totals); an open, half-open or forced
 * one, and every breaker on the dashboard, as the whole card with its window, reason and buttons.
 */
export function condensedBreaker(mode: PanelMode, breaker: { state: string; forced?: boolean }): boolean {
  return mode === 'sidebar' && breaker.state === 'closed' && !breaker.forced;
}
