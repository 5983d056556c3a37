// The request waterfall webview: posts `ready`, receives the model the extension computed
// (extension/src/requestsView/waterfallModel.ts) and draws it as CSS bars on one time axis: the
// request's phases, the batch's compute, each batch-mate. Every bar takes keyboard focus and has
// an aria-label; arrow keys move between bars, Enter on a batch-mate opens its waterfall.
import type { WaterfallFromWebview, WaterfallLane, WaterfallRendered, WaterfallState, WaterfallToWebview } from '../../common/waterfallProtocol.js';
import { fill, h } from './dom.js';

interface VsCodeApi {
  postMessage(message: WaterfallFromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;

function render(state: WaterfallState): void {
  const m = state.model;
  const failed = m.lanes[0]?.failed ?? false;
  const header = h('header', { class: 'wf-header' }, h('h1', {}, m.title), h('span', { class: `chip ${failed ? 'chip-failed' : 'chip-ok'}` }, failed ? 'failed' : 'success'));
  const parts: (HTMLElement | null)[] = [header];
  if (m.error) parts.push(h('p', { class: 'wf-error', role: 'alert' }, m.error));
  parts.push(m.batchText ? h('p', { class: 'wf-batch', 'data-batch-text': true }, m.batchText) : h('p', { class: 'muted' }, 'This request rode in no batch (it ended before one, or its batch is no longer held).'));

  const axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' });
  for (const t of m.ticks) {
    const tick = h('span', { class: 'wf-tick' }, t.label);
    tick.style.left = `${t.pct}%`;
    axis.append(tick);
  }
  const grid = h('div', { class: 'wf-grid', role: 'group', 'aria-label': `Waterfall over ${m.ticks.at(-1)?.label ?? ''}; arrow keys move between bars` }, h('div', { class: 'wf-lane wf-axis-row' }, h('span', { class: 'wf-label' }), axis));
  for (const lane of m.lanes) grid.append(laneRow(lane));
  parts.push(grid, legend(m.lanes[0]), facts(m.facts));
  fill(app, ...parts);
  if (state.testMode) vscode.postMessage({ type: 'rendered', rendered: rendered(m.requestId) });
}

function laneRow(lane: WaterfallLane): HTMLElement {
  const label =
    lane.kind === 'mate'
      ? h('button', { class: 'wf-label wf-link', type: 'button', title: `Open the waterfall of ${lane.id}` }, lane.label)
      : h('span', { class: 'wf-label' }, lane.label);
  if (lane.kind === 'mate') label.addEventListener('click', () => vscode.postMessage({ type: 'open', id: lane.id }));
  const track = h('div', { class: 'wf-track' });
  for (const b of lane.bars) {
    const bar = h('div', { class: `bar phase-${b.phase}`, 'data-phase': b.phase, tabindex: '0', role: 'img', 'aria-label': b.aria, title: b.aria });
    bar.style.left = `${b.leftPct}%`;
    bar.style.width = `${b.widthPct}%`;
    track.append(bar);
  }
  return h('div', { class: `wf-lane lane-${lane.kind}${lane.failed ? ' lane-failed' : ''}`, 'data-lane': lane.kind, 'data-id': lane.id }, label, track);
}

function legend(lane: WaterfallLane | undefined): HTMLElement {
  const list = h('ul', { class: 'wf-legend', 'aria-label': 'Phases' });
  for (const b of lane?.bars ?? []) list.append(h('li', {}, h('span', { class: `swatch phase-${b.phase}`, 'aria-hidden': 'true' }), b.aria));
  return list;
}

function facts(items: { label: string; value: string }[]): HTMLElement {
  const dl = h('dl', { class: 'values' });
  for (const f of items) dl.append(h('dt', {}, f.label), h('dd', {}, f.value));
  return dl;
}

/** Arrow keys: left/right along a lane, up/down to the nearest bar of the lane above/below. */
function onKey(e: KeyboardEvent): void {
  const bar = e.target instanceof HTMLElement && e.target.classList.contains('bar') ? e.target : undefined;
  if (!bar) return;
  const lane = bar.closest<HTMLElement>('.wf-lane')!;
  if (e.key === 'Enter' && lane.dataset.lane === 'mate') {
    vscode.postMessage({ type: 'open', id: lane.dataset.id! });
    return;
  }
  const bars = [...lane.querySelectorAll<HTMLElement>('.bar')];
  const i = bars.indexOf(bar);
  let next: HTMLElement | undefined;
  if (e.key === 'ArrowRight') next = bars[i + 1];
  else if (e.key === 'ArrowLeft') next = bars[i - 1];
  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    const lanes = [...document.querySelectorAll<HTMLElement>('.wf-lane')].filter((l) => l.querySelector('.bar'));
    const other = lanes[lanes.indexOf(lane) + (e.key === 'ArrowDown' ? 1 : -1)];
    const x = bar.getBoundingClientRect().left;
    next = [...(other?.querySelectorAll<HTMLElement>('.bar') ?? [])].sort((a, b) => Math.abs(a.getBoundingClientRect().left - x) - Math.abs(b.getBoundingClientRect().left - x))[0];
  } else return;
  e.preventDefault();
  next?.focus();
}

/** What the DOM shows, for the extension-host tests. */
function rendered(requestId: string): WaterfallRendered {
  return {
    requestId,
    phases: [...document.querySelectorAll<HTMLElement>('[data-lane="request"] .bar')].map((b) => b.dataset.phase ?? ''),
    mates: document.querySelectorAll('[data-lane="mate"]').length,
    batchText: document.querySelector('[data-batch-text]')?.textContent ?? '',
    focusable: document.querySelectorAll('.bar[tabindex="0"]').length,
  };
}

window.addEventListener('message', (e: MessageEvent<WaterfallToWebview>) => {
  if (e.data.type === 'show') render(e.data.state);
});
document.addEventListener('keydown', onKey);
vscode.postMessage({ type: 'ready' });
