// What every section of the panel reads when it updates.
import type { PanelAction, PanelState } from '../../common/panelProtocol.js';
import type { SeriesWindow } from '../../common/timeSeries.js';

export interface UiState {
  /** Collapsed sections by id. */
  collapsed: Record<string, boolean>;
  /** The model the per-model charts show. */
  model?: string;
}

export interface PanelContext {
  state: PanelState;
  series: SeriesWindow;
  ui: UiState;
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

/** The chart window: the history there is, from 1 to 5 minutes (the extension keeps 5). */
export function windowMs(times: number[]): number {
  const span = times.length > 1 ? times[times.length - 1]! - times[0]! : 0;
  return Math.min(5 * 60_000, Math.max(60_000, Math.ceil(span / 30_000) * 30_000));
}
