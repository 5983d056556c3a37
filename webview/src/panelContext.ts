// What every section of the panel reads when it updates.
import type { PanelAction, PanelMode, PanelState } from '../../common/panelProtocol.js';
import type { SeriesWindow } from '../../common/timeSeries.js';
import { chartWindowMs } from './dashboardLayout.js';

export interface UiState {
  /** Collapsed sections by id. */
  collapsed: Record<string, boolean>;
  /** The model the per-model charts show. */
  model?: string;
  /** The dashboard's time range, in minutes (1, 5 or 15). */
  range?: number;
}

export interface PanelContext {
  state: PanelState;
  series: SeriesWindow;
  ui: UiState;
  mode: PanelMode;
  /** The time window every line chart shows (chartWindowMs). */
  windowMs: number;
  act(action: PanelAction): void;
  saveUi(): void;
}

export interface Section {
  id: string;
  title: string;
  body: HTMLElement;
  /** Shown as the collapsible's description (current values, for a collapsed section). */
  summary?(ctx: PanelContext): string;
  update(ctx: PanelContext): void;
}

/** The sidebar's chart window: the history there is, from 1 to 5 minutes. */
export function windowMs(times: number[]): number {
  return chartWindowMs('sidebar', times);
}
