// Latency: p50/p95/p99 per version of the selected model (from the histograms), and the split
// into queue time and compute time. A point of the quantiles chart, clicked (or chosen with the
// arrow keys and Enter), asks the extension for the slowest requests of that second.
import { SERIES } from '../../../common/panelProtocol.js';
import { fill, h } from '../dom.js';
import { lineChart, type LineChart } from '../charts/lineChart.js';
import { formatNumber } from '../charts/scale.js';
import type { PanelContext, Section } from '../panelContext.js';
import { ValuesList, selectedModel } from './common.js';

export function latencySection(): Section {
  // One block per version; the dashboard lays them side by side.
  const body = h('div', { class: 'versions' });
  const charts = new Map<string, { quantiles: LineChart; split: LineChart; values: ValuesList }>();
  let layout = '';
  let latest: PanelContext | undefined;
  return {
    id: 'latency',
    title: 'Latency',
    body,
    summary: (ctx) => {
      const m = selectedModel(ctx);
      const v = ctx.state.status?.models.find((x) => x.name === m)?.default_version;
      return m && v ? `${m}/${v} p99 ${formatNumber(ctx.series.last(SERIES.latencyMs('p99', m, v)) ?? NaN, ' ms')}` : '';
    },
    update(ctx) {
      latest = ctx;
      const model = selectedModel(ctx);
      const versions = ctx.state.status?.models.find((m) => m.name === model)?.versions.filter((v) => v.state === 'ready').map((v) => v.version) ?? [];
      const key = `${model}:${versions.join(',')}`;
      if (key !== layout) {
        layout = key;
        for (const c of charts.values()) (c.quantiles.dispose(), c.split.dispose());
        charts.clear();
        fill(body);
        for (const v of versions) {
          const c = { quantiles: lineChart(`${model} version ${v} latency quantiles`), split: lineChart(`${model} version ${v} queue and compute time`), values: new ValuesList() };
          // Each point stands for the second before it (a snapshot a second).
          c.quantiles.pickable((at) => latest?.act({ kind: 'slowestRequests', model: model!, version: v, at }), 'Click a point (or choose one with the arrow keys and press Enter) to list the slowest requests of that second');
          charts.set(v, c);
          body.append(h('div', { class: 'version', 'data-version': v }, h('h4', {}, `${model} / ${v}`), c.quantiles.canvas, h('p', { class: 'legend' }, 'p50 · p95 · p99 (ms); below: queue vs compute (ms)'), c.split.canvas, c.values.element));
        }
        if (versions.length === 0) body.append(h('p', { class: 'muted' }, 'No model version is serving.'));
      }
      for (const [v, c] of charts) {
        const q = (name: 'p50' | 'p95' | 'p99') => ctx.series.get(SERIES.latencyMs(name, model!, v));
        c.quantiles.update({
          times: ctx.series.times,
          windowMs: ctx.windowMs,
          series: [
            { label: 'p50', values: q('p50'), color: 0 },
            { label: 'p95', values: q('p95'), color: 1 },
            { label: 'p99', values: q('p99'), color: 'red' },
          ],
        });
        c.split.update({
          times: ctx.series.times,
          windowMs: ctx.windowMs,
          series: [
            { label: 'queue', values: ctx.series.get(SERIES.queueMs(model!, v)), color: 4 },
            { label: 'compute', values: ctx.series.get(SERIES.computeMs(model!, v)), color: 3 },
          ],
        });
        const last = (k: string) => formatNumber(ctx.series.last(k) ?? NaN, ' ms');
        c.values.set([
          ['p50', last(SERIES.latencyMs('p50', model!, v))],
          ['p95', last(SERIES.latencyMs('p95', model!, v))],
          ['p99', last(SERIES.latencyMs('p99', model!, v))],
          ['queue (mean)', last(SERIES.queueMs(model!, v))],
          ['compute (mean)', last(SERIES.computeMs(model!, v))],
        ]);
        c.quantiles.canvas.setAttribute('aria-label', `${model} version ${v} latency: ${c.values.text()}`);
      }
    },
  };
}
