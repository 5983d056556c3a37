// The one message protocol between the extension and the Metrics webview, both directions.
// The webview posts `ready` first; the extension answers with `state` (everything, history
// included), then a `tick` per snapshot while the view is visible.
import type { AgentStatus, CanarySummary } from './api.js';
import type { Bucket } from './histogramQuantile.js';
import type { SeriesHistory, SeriesPoint } from './timeSeries.js';

/** Series keys: `<metric>|<model>` or `<metric>|<model>/<version>` or `<metric>|gpu<index>`. */
export const SERIES = {
  requestsPerSecond: (model: string) => `rps|${model}`,
  errorsPerSecond: (model: string) => `eps|${model}`,
  latencyMs: (q: 'p50' | 'p95' | 'p99', model: string, version: string) => `${q}|${model}/${version}`,
  queueMs: (model: string, version: string) => `queue|${model}/${version}`,
  computeMs: (model: string, version: string) => `compute|${model}/${version}`,
  batchSize: (model: string, version: string) => `batch|${model}/${version}`,
  queueDepth: (model: string, version: string) => `depth|${model}/${version}`,
  cacheHitRate: (model: string) => `hit|${model}`,
  gpuUtilization: (index: number) => `gpuutil|gpu${index}`,
  gpuMemoryBytes: (index: number) => `gpumem|gpu${index}`,
  /** Share of wall time the version's batches kept their device busy (0..1 on a GPU provider). */
  deviceBusy: (model: string, version: string) => `busy|${model}/${version}`,
} as const;

export type AgentPhase = 'stopped' | 'starting' | 'ready' | 'crashed' | 'failed';

export interface AgentView {
  phase: AgentPhase;
  message?: string;
  /** Set when connected to a remote agent. */
  remote?: string;
}

export interface PanelState {
  agent: AgentView;
  /** The latest snapshot (null while the agent is down). */
  status: AgentStatus | null;
  history: SeriesHistory;
  /** Batch-size distribution since the agent started, per `<model>/<version>` (per-bucket counts). */
  batchSizes: Record<string, Bucket[]>;
  /** Tests only: the webview reports what it rendered. */
  testMode: boolean;
  /** Where the webview is: the compact sidebar view (default) or the dashboard in the editor area. */
  mode?: PanelMode;
  /** The model selected in the Models tree (the per-model charts show it). */
  selectedModel?: string;
  /** Canaries that ended, from the last snapshot: listed while the agent is down. */
  pastCanaries?: CanarySummary[];
}

export type PanelMode = 'sidebar' | 'dashboard';

export type ExtensionMessage =
  | { type: 'state'; state: PanelState }
  | { type: 'tick'; point: SeriesPoint; status: AgentStatus; batchSizes: Record<string, Bucket[]> }
  | { type: 'agent'; agent: AgentView }
  /** A model was selected in the Models tree. */
  | { type: 'select'; model: string }
  /** Tests only: click the control with this data-action (what a user's click does). */
  | { type: 'click'; action: string }
  /** Tests only (screenshots): scroll the section with this id into view, as a user's scrolling would. */
  | { type: 'reveal'; section: string }
  /** Tests only: click the line chart with this label at the x of time `at` (what a user's click does). */
  | { type: 'clickChart'; chart: string; at: number }
  /** Tests only: focus the line chart with this label and press these keys (what a keyboard user does). */
  | { type: 'keysOnChart'; chart: string; keys: string[] };

export type PanelAction =
  | { kind: 'breaker'; action: 'reset' | 'open'; model: string; version: string }
  | { kind: 'abortCanary'; id: string }
  | { kind: 'showCanaryReport'; id: string }
  | { kind: 'startAgent' }
  | { kind: 'sendTestTraffic' }
  | { kind: 'showLog' }
  /** A point of the latency chart was picked: the slowest requests of the second ending at `at` (epoch ms). */
  | { kind: 'slowestRequests'; model: string; version: string; at: number };

/** What the webview shows, read back from its DOM (tests only). */
export interface RenderedSummary {
  breakers: Record<string, string>;
  /** The Totals line of each breaker card. */
  breakerTotals: Record<string, string>;
  /** Breaker cards shown as one line (the sidebar's closed breakers). */
  breakersCondensed?: string[];
  requestsPerSecond: Record<string, string>;
  agent: string;
  canary: string | null;
  /** The canary section's lines of what the last check could see (MDE · ETA), as shown. */
  canarySight?: string[];
  mode?: PanelMode;
  /** Dashboard layout: grid columns, and each section with the columns it spans. */
  columns?: number;
  /** The dashboard's width in CSS pixels (what the columns were chosen for). */
  width?: number;
  sections?: { id: string; span: number }[];
  /** Line charts drawn: their section, label, legend entries and the time window shown. */
  charts?: { section: string; label: string; legend: string[]; windowMs: number }[];
  /** The selected time range in minutes (dashboard), and the model the per-model charts show. */
  rangeMinutes?: number;
  model?: string;
  /** The compact "agent is down" state is shown instead of the sections. */
  down?: boolean;
  /** Sections shown (not hidden). */
  visibleSections?: string[];
  /** The past canaries the down state lists (`<model> <baseline> → <candidate>: <decision>`). */
  pastCanaries?: string[];
}

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'action'; action: PanelAction }
  | { type: 'rendered'; summary: RenderedSummary };
