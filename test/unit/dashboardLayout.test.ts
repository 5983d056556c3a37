// The Metrics webview's layout decisions (sidebar and dashboard): the charts' time window for a
// range, chart heights, the dashboard grid's columns and the sections' spans (versions side by side),
// and the shared feed both views read (one history of 15 minutes, scraped only while one is visible).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentStatus } from '../../common/api.js';
import { Emitter } from '../../extension/src/emitter.js';
import { MetricsFeed } from '../../extension/src/live/metricsFeed.js';
import { HISTORY_POINTS } from '../../extension/src/live/metricsHistory.js';
import type { Services } from '../../extension/src/services.js';
import { DEFAULT_RANGE_MIN, RANGES_MIN, chartHeight, chartWindowMs, condensedBreaker, gridColumns, parseRange, sectionOrder, sectionSpans, versionColumns } from '../../webview/src/dashboardLayout.js';
import { windowMs } from '../../webview/src/panelContext.js';

test('the dashboard shows exactly the selected range; the sidebar fits the history (1 to 5 min)', () => {
  const times = [0, 40_000];
  for (const r of RANGES_MIN) assert.equal(chartWindowMs('dashboard', times, r), r * 60_000);
  assert.equal(chartWindowMs('dashboard', []), DEFAULT_RANGE_MIN * 60_000);
  assert.equal(chartWindowMs('sidebar', times, 15), 60_000, 'the sidebar ignores the range');
  assert.equal(chartWindowMs('sidebar', [0, 14 * 60_000]), 5 * 60_000, 'the sidebar stays compact with 15 min of history');
  assert.equal(windowMs([0, 100_000]), chartWindowMs('sidebar', [0, 100_000]));
});

test('a saved range is one of 1, 5, 15 minutes, else the default', () => {
  assert.deepEqual([...RANGES_MIN], [1, 5, 15]);
  assert.equal(parseRange(15), 15);
  assert.equal(parseRange(1), 1);
  for (const bad of [undefined, null, 0, 2, '15', 60]) assert.equal(parseRange(bad), DEFAULT_RANGE_MIN);
});

test('the history holds the longest range at one snapshot per second', () => {
  assert.ok(HISTORY_POINTS >= Math.max(...RANGES_MIN) * 60);
});

test('dashboard charts are taller than the sidebar\'s', () => {
  assert.equal(chartHeight('sidebar'), 120);
  assert.ok(chartHeight('dashboard') > chartHeight('sidebar'));
});

test('grid columns follow the editor width: 1 when narrow, up to 3', () => {
  assert.equal(gridColumns(0), 1);
  assert.equal(gridColumns(500), 1);
  assert.equal(gridColumns(730), 2, 'an editor beside the sidebar on a 1400 px window');
  assert.equal(gridColumns(900), 2);
  assert.equal(gridColumns(1400), 3);
  assert.equal(gridColumns(4000), 3);
});

test('latency spans a column per version (side by side), up to the row; other sections one column', () => {
  const shapes = (versions: number) => [
    { id: 'agent', versions: 1 },
    { id: 'latency', versions },
    { id: 'traffic', versions: 1 },
  ];
  assert.deepEqual(sectionSpans(3, shapes(3)), { agent: 1, latency: 3, traffic: 1 });
  assert.deepEqual(sectionSpans(2, shapes(3)), { agent: 1, latency: 2, traffic: 1 });
  assert.deepEqual(sectionSpans(3, shapes(2)), { agent: 1, latency: 2, traffic: 1 });
  assert.deepEqual(sectionSpans(1, shapes(3)), { agent: 1, latency: 1, traffic: 1 });
  assert.deepEqual(sectionSpans(3, shapes(0)), { agent: 1, latency: 1, traffic: 1 }, 'nothing serving: one column');
  assert.equal(versionColumns(2, 3), 2);
  assert.equal(versionColumns(3, 3), 3);
  assert.equal(versionColumns(3, 1), 1);
});

/** Services for the feed: a snapshot emitter, a /metrics client, a ready agent. */
function fakeServices(): { s: Services; snapshot: Emitter<AgentStatus>; scrapes: () => number; live: Set<string> } {
  const snapshot = new Emitter<AgentStatus>();
  let scrapes = 0;
  const live = new Set<string>();
  const s = {
    live: { onSnapshot: snapshot, setVisible: (id: string, v: boolean) => (v ? live.add(id) : live.delete(id)) },
    client: {
      metricsText: async () => {
        scrapes++;
        return '';
      },
    },
    agent: { state: { kind: 'ready', pid: 7 }, mode: { kind: 'local' } },
    log: { debug: () => undefined },
  } as unknown as Services;
  return { s, snapshot, scrapes: () => scrapes, live };
}

const status = { agent: { pid: 7 }, models: [], caches: {}, gpus: { devices: [] } } as unknown as AgentStatus;
const settle = () => new Promise((r) => setImmediate(r));

test('the feed scrapes only while a Metrics view is visible, and both views get the same points', async () => {
  const { s, snapshot, scrapes, live } = fakeServices();
  const feed = new MetricsFeed(s);
  const points: number[] = [];
  feed.onPoint.event((p) => points.push(p.point.t));
  snapshot.fire(status);
  await settle();
  assert.equal(scrapes(), 0, 'nothing visible: no scrape');
  feed.setVisible('inferscope.metrics', true);
  feed.setVisible('inferscope.dashboard', true);
  assert.deepEqual([...live].sort(), ['inferscope.dashboard', 'inferscope.metrics'], 'live data is wanted by both');
  snapshot.fire(status);
  await settle();
  assert.equal(scrapes(), 1, 'one scrape for both views');
  assert.equal(points.length, 1);
  feed.setVisible('inferscope.metrics', false);
  snapshot.fire(status);
  await settle();
  assert.equal(scrapes(), 2, 'the dashboard alone keeps the feed going');
  feed.setVisible('inferscope.dashboard', false);
  snapshot.fire(status);
  await settle();
  assert.equal(scrapes(), 2);
  assert.equal(feed.history.window.capacity, HISTORY_POINTS);
  feed.dispose();
});

test('a model selected once reaches the views once', () => {
  const { s } = fakeServices();
  const feed = new MetricsFeed(s);
  const seen: string[] = [];
  feed.onSelect.event((m) => seen.push(m));
  feed.select('digits');
  feed.select('digits');
  feed.select('fraud');
  assert.deepEqual(seen, ['digits', 'fraud']);
  assert.equal(feed.selectedModel, 'fraud');
});

test('the sidebar puts the charts first and condenses closed breakers; the dashboard keeps state first and whole cards (issue 19)', () => {
  const sidebar = sectionOrder('sidebar');
  const charts = ['traffic', 'latency', 'batching'].map((id) => sidebar.indexOf(id));
  const state = ['breakers', 'canary'].map((id) => sidebar.indexOf(id));
  assert.ok(Math.max(...charts) < Math.min(...state), `charts before state cards: ${sidebar.join()}`);
  assert.equal(sidebar[0], 'agent');
  assert.deepEqual([...sectionOrder('dashboard')].sort(), [...sidebar].sort(), 'both show every section');
  assert.ok(sectionOrder('dashboard').indexOf('breakers') < sectionOrder('dashboard').indexOf('latency'));
  assert.equal(condensedBreaker('sidebar', { state: 'closed' }), true);
  assert.equal(condensedBreaker('sidebar', { state: 'closed', forced: true }), false, 'a forced state is shown whole');
  assert.equal(condensedBreaker('sidebar', { state: 'open' }), false);
  assert.equal(condensedBreaker('sidebar', { state: 'half_open' }), false);
  assert.equal(condensedBreaker('dashboard', { state: 'closed' }), false);
});
