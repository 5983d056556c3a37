// The Metrics webview: posts `ready`, receives the full state, then a tick per snapshot, and keeps
// the sections up to date. Time series live in a bounded window (memory stays flat); UI-only state
// (collapsed sections, selected model) goes through the webview's getState/setState.
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type { ExtensionMessage, PanelAction, PanelMode, PanelState, RenderedSummary, WebviewMessage } from '../../common/panelProtocol.js';
import { SERIES } from '../../common/panelProtocol.js';
import { SeriesWindow } from '../../common/timeSeries.js';
import { configureCharts, lineChartOf } from './charts/lineChart.js';
import { formatNumber } from './charts/scale.js';
import { RANGES_MIN, chartHeight, chartWindowMs, gridColumns, parseRange, sectionOrder, sectionSpans, versionColumns } from './dashboardLayout.js';
import { fill, h } from './dom.js';
import type { PanelContext, Section, UiState } from './panelContext.js';
import { onThemeChange } from './theme.js';
import { agentSection } from './sections/agentSection.js';
import { button } from './sections/controls.js';
import { selectedModel } from './sections/common.js';
import { batchingSection } from './sections/batchingSection.js';
import { breakerSection } from './sections/breakerSection.js';
import { cacheSection } from './sections/cacheSection.js';
import { canarySection } from './sections/canarySection.js';
import { gpuSection } from './sections/gpuSection.js';
import { latencySection } from './sections/latencySection.js';
import { trafficSection } from './sections/trafficSection.js';
import { downState, pastCanaryLine } from './sections/downState.js';
import type { CanarySummary } from '../../common/api.js';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): UiState | undefined;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const ui: UiState = vscode.getState() ?? { collapsed: {} };
const app = document.getElementById('app')!;
const allSections: Section[] = [agentSection(), breakerSection(), canarySection(), trafficSection(), latencySection(), batchingSection(), cacheSection(), gpuSection()];
/** In the mode's order (dashboardLayout.sectionOrder): the sidebar's charts first. */
let sections: Section[] = ordered('sidebar');
const collapsibles = new Map<string, HTMLElement & { open: boolean; description: string }>();
/** While the agent is not ready: one compact state instead of the (empty) sections. */
const down = downState();
let isDown = false;
const modelPicker = h('select', { id: 'model', 'aria-label': 'Model shown in the latency and batching charts' });
let ctx: PanelContext | undefined;
/** Sidebar (compact) until the first state says otherwise; the mode never changes afterwards. */
let mode: PanelMode = 'sidebar';
const rangeButtons = new Map<number, HTMLElement>();
let columns = 1;
const spans: Record<string, number> = {};

function layout(): void {
  modelPicker.addEventListener('change', () => {
    ui.model = modelPicker.value;
    saveUi();
    render();
  });
  const header = h('header', { class: 'panel-header' }, h('label', { for: 'model' }, 'Model '), modelPicker);
  fill(app, header, down.element);
  down.element.hidden = true;
  for (const s of sections) {
    const c = h('vscode-collapsible', { title: s.title, 'data-section': s.id }) as HTMLElement & { open: boolean; description: string };
    c.open = !ui.collapsed[s.id];
    c.addEventListener('vsc-collapsible-toggle', (e) => {
      ui.collapsed[s.id] = !(e as CustomEvent<{ open: boolean }>).detail.open;
      saveUi();
      // A chart drawn while collapsed had no size: draw it now.
      if (!ui.collapsed[s.id]) render();
    });
    c.append(s.body);
    collapsibles.set(s.id, c);
    app.append(c);
  }
}

/**
 * The dashboard (a webview panel in the editor area): the sections in a grid, taller charts with
 * legends, a time range control. Called once, when the first state names the mode.
 */
function becomeDashboard(): void {
  mode = 'dashboard';
  document.body.classList.add('dashboard');
  sections = ordered(mode);
  for (const s of sections) app.append(collapsibles.get(s.id)!);
  configureCharts({ height: chartHeight(mode), legends: true });
  const range = h('div', { class: 'range', role: 'group', 'aria-label': 'Time range' }, h('span', { class: 'muted' }, 'Range '));
  for (const r of RANGES_MIN) {
    const b = button(`${r} min`, `range:${r}`, () => {
      ui.range = r;
      saveUi();
      render();
    });
    rangeButtons.set(r, b);
    range.append(b);
  }
  app.querySelector('header')!.append(range);
  new ResizeObserver(() => {
    if (ctx && gridColumns(app.clientWidth) !== columns) render();
  }).observe(app);
}

function ordered(m: PanelMode): Section[] {
  const order = sectionOrder(m);
  return [...allSections].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
}

/** The dashboard's grid: columns for the width, a column per version for the per-version sections. */
function layoutGrid(): void {
  columns = gridColumns(app.clientWidth);
  const template = `repeat(${columns}, minmax(0, 1fr))`;
  if (app.style.gridTemplateColumns !== template) app.style.gridTemplateColumns = template;
  const model = ctx ? selectedModel(ctx) : undefined;
  const versions = ctx?.state.status?.models.find((m) => m.name === model)?.versions.filter((v) => v.state === 'ready').length ?? 1;
  Object.assign(spans, sectionSpans(columns, sections.map((s) => ({ id: s.id, versions: s.id === 'latency' ? versions : 1 }))));
  for (const s of sections) {
    const c = collapsibles.get(s.id)!;
    const span = spans[s.id] ?? 1;
    if (c.style.gridColumn !== `span ${span}`) c.style.gridColumn = `span ${span}`;
    const blocks = s.body.classList.contains('versions') ? s.body : null;
    if (blocks) blocks.style.gridTemplateColumns = `repeat(${versionColumns(span, versions)}, minmax(0, 1fr))`;
  }
  for (const [r, b] of rangeButtons) {
    const on = r === parseRange(ui.range);
    b.toggleAttribute('secondary', !on);
    b.setAttribute('aria-pressed', String(on));
  }
}

function saveUi(): void {
  vscode.setState(ui);
}

function act(action: PanelAction): void {
  vscode.postMessage({ type: 'action', action });
}

function render(): void {
  if (!ctx) return;
  const models = ctx.state.status?.models.map((m) => m.name) ?? [];
  if ([...modelPicker.options].map((o) => o.value).join() !== models.join()) {
    fill(modelPicker, ...models.map((m) => h('option', { value: m }, m)));
  }
  if (ui.model && models.includes(ui.model)) modelPicker.value = ui.model;
  // The sidebar hides its header with one model; the dashboard keeps it for the range control.
  modelPicker.hidden = models.length < 2;
  modelPicker.previousElementSibling!.toggleAttribute('hidden', models.length < 2);
  modelPicker.parentElement!.hidden = mode === 'sidebar' && models.length < 2;
  ctx.mode = mode;
  isDown = ctx.state.agent.phase !== 'ready' || !ctx.state.status;
  down.element.hidden = !isDown;
  if (isDown) down.update(ctx);
  else down.clear();
  for (const c of collapsibles.values()) {
    const display = isDown ? 'none' : '';
    if (c.style.display !== display) c.style.display = display;
  }
  if (isDown) {
    modelPicker.parentElement!.hidden = mode === 'sidebar';
    if (ctx.state.testMode) vscode.postMessage({ type: 'rendered', summary: renderedSummary() });
    return;
  }
  ctx.windowMs = chartWindowMs(mode, ctx.series.times, parseRange(ui.range));
  if (mode === 'dashboard') layoutGrid();
  for (const s of sections) {
    s.update(ctx);
    const c = collapsibles.get(s.id)!;
    const summary = s.summary?.(ctx) ?? '';
    if (c.description !== summary) c.description = summary;
  }
  if (ctx.state.testMode) vscode.postMessage({ type: 'rendered', summary: renderedSummary() });
}

/** What the DOM shows, for the extension-host tests. */
function renderedSummary(): RenderedSummary {
  const breakers: Record<string, string> = {};
  const breakerTotals: Record<string, string> = {};
  for (const card of document.querySelectorAll<HTMLElement>('[data-breaker]')) {
    breakers[card.dataset.breaker!] = card.dataset.state ?? '';
    breakerTotals[card.dataset.breaker!] = card.querySelector('[data-field="totals"]')?.textContent ?? '';
  }
  const rps: Record<string, string> = {};
  for (const m of ctx?.state.status?.models ?? []) rps[m.name] = formatNumber(ctx!.series.last(SERIES.requestsPerSecond(m.name)) ?? NaN);
  return {
    breakers,
    breakerTotals,
    breakersCondensed: [...document.querySelectorAll<HTMLElement>('[data-breaker].condensed')].map((c) => c.dataset.breaker!),
    requestsPerSecond: rps,
    agent: document.querySelector<HTMLElement>('[data-agent]')?.dataset.agent ?? '',
    canary: document.querySelector<HTMLElement>('[data-canary]')?.dataset.canary ?? null,
    canarySight: [...document.querySelectorAll('[data-canary-sight] li')].map((li) => li.textContent ?? ''),
    mode,
    columns: mode === 'dashboard' ? columns : 1,
    ...(mode === 'dashboard' ? { width: app.clientWidth } : {}),
    sections: sections.map((s) => ({ id: s.id, span: mode === 'dashboard' ? (spans[s.id] ?? 1) : 1 })),
    charts: [...document.querySelectorAll<HTMLCanvasElement>('canvas.chart[data-window-ms]')]
      .filter((c) => !c.hidden && c.closest<HTMLElement>('[data-section]')?.style.display !== 'none')
      .map((c) => ({
        section: c.closest<HTMLElement>('[data-section]')?.dataset.section ?? '',
        label: c.dataset.chart ?? '',
        legend: c.nextElementSibling?.classList.contains('chart-legend') ? [...c.nextElementSibling.children].map((li) => li.textContent ?? '') : [],
        windowMs: Number(c.dataset.windowMs),
      })),
    ...(mode === 'dashboard' ? { rangeMinutes: parseRange(ui.range) } : {}),
    ...(ctx ? { model: selectedModel(ctx) ?? '' } : {}),
    down: isDown,
    visibleSections: isDown ? [] : sections.map((s) => s.id).filter((id) => collapsibles.get(id)!.style.display !== 'none'),
    pastCanaries: isDown ? (ctx?.state.pastCanaries ?? []).map(pastCanaryLine) : [],
  };
}

function receive(m: ExtensionMessage): void {
  switch (m.type) {
    case 'state':
      if (m.state.mode === 'dashboard' && mode !== 'dashboard') becomeDashboard();
      if (m.state.selectedModel) ui.model = m.state.selectedModel;
      ctx = { state: m.state, series: SeriesWindow.from(m.state.history), ui, mode, windowMs: 0, act, saveUi };
      break;
    case 'select':
      ui.model = m.model;
      saveUi();
      break;
    case 'tick':
      if (!ctx) return;
      ctx.series.push(m.point);
      ctx.state.status = m.status;
      ctx.state.batchSizes = m.batchSizes;
      break;
    case 'agent':
      if (!ctx) return;
      ctx.state.agent = m.agent;
      if (m.agent.phase !== 'ready') {
        // Keep the canaries that ended: the down state lists them.
        ctx.state.pastCanaries = mergeCanaries(ctx.state.status?.canaries ?? [], ctx.state.pastCanaries ?? []);
        ctx.state.status = null;
      }
      break;
    case 'click':
      if (ctx?.state.testMode) document.querySelector<HTMLElement>(`[data-action="${CSS.escape(m.action)}"]`)?.click();
      return;
    case 'reveal':
      if (ctx?.state.testMode) collapsibles.get(m.section)?.scrollIntoView({ block: 'start' });
      return;
    case 'clickChart': {
      const canvas = ctx?.state.testMode ? document.querySelector<HTMLCanvasElement>(`canvas[data-chart="${CSS.escape(m.chart)}"]`) : null;
      const chart = canvas ? lineChartOf(canvas) : undefined;
      if (canvas && chart) canvas.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: chart.clientXOf(m.at), clientY: canvas.getBoundingClientRect().top + canvas.clientHeight / 2 }));
      return;
    }
    case 'keysOnChart': {
      const canvas = ctx?.state.testMode ? document.querySelector<HTMLCanvasElement>(`canvas[data-chart="${CSS.escape(m.chart)}"]`) : null;
      canvas?.focus();
      for (const key of m.keys) canvas?.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
      return;
    }
  }
  render();
}

/** Ended canaries, newest first, each once (the first list wins), at most 10. */
function mergeCanaries(fresh: CanarySummary[], known: CanarySummary[]): CanarySummary[] {
  const byId = new Map<string, CanarySummary>();
  for (const c of [...fresh, ...known]) if (c.state !== 'running' && !byId.has(c.id)) byId.set(c.id, c);
  return [...byId.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : -1)).slice(0, 10);
}

layout();
window.addEventListener('message', (e: MessageEvent<ExtensionMessage>) => receive(e.data));
onThemeChange(() => render());
vscode.postMessage({ type: 'ready' });
