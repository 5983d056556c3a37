// The request waterfall panel: what the extension computes (extension/src/requestsView/
// waterfallModel.ts) and the messages both ways. The webview posts `ready`; the extension answers
// with `show` (the whole model), again whenever the panel shows another request or is shown again.

/** One bar: ms on the panel's common axis (0 = the earliest arrival shown). */
export interface WaterfallBar {
  /** A RequestPhases key without `_ms` (`queue` for enqueued → dispatched), or `total`/`compute`. */
  phase: string;
  label: string;
  startMs: number;
  durationMs: number;
  /** 0..100 of the axis, for CSS. */
  leftPct: number;
  widthPct: number;
  /** Read by screen readers: "Queue wait: 3.20 ms, from 0.50 ms to 3.70 ms". */
  aria: string;
}

export interface WaterfallLane {
  /** `request`: the one opened, phase by phase; `mate`: a batch-mate; `batch`: the batch's compute. */
  kind: 'request' | 'mate' | 'batch';
  /** The request id (request, mate) or the batch id. */
  id: string;
  label: string;
  bars: WaterfallBar[];
  failed: boolean;
}

export interface WaterfallModel {
  requestId: string;
  title: string;
  /** Axis length in ms and its tick marks (ms, 0..100 %). */
  axisMs: number;
  ticks: { ms: number; pct: number; label: string }[];
  lanes: WaterfallLane[];
  /** Label/value pairs: outcome, status, version, breaker, entities, batch, … */
  facts: { label: string; value: string }[];
  /** The release reason in words, when the request rode in a batch. */
  batchText: string | null;
  /** Rows of the batch and how many of its requests the agent still holds records of. */
  batch: { id: string; rows: number; requests: number; mates: number } | null;
  error: string | null;
}

export interface WaterfallState {
  model: WaterfallModel;
  /** Tests only: the webview reports what it rendered. */
  testMode: boolean;
}

export type WaterfallToWebview = { type: 'show'; state: WaterfallState };

/** What the panel shows, read back from its DOM (tests only). */
export interface WaterfallRendered {
  requestId: string;
  /** The opened request's phase bars, in order (their data-phase). */
  phases: string[];
  /** Batch-mate lanes. */
  mates: number;
  batchText: string;
  /** Bars that take keyboard focus. */
  focusable: number;
}

export type WaterfallFromWebview =
  | { type: 'ready' }
  /** A batch-mate lane was chosen: open its waterfall. */
  | { type: 'open'; id: string }
  | { type: 'rendered'; rendered: WaterfallRendered };
