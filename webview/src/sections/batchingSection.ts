// Batching: mean batch size over time, the batch-size distribution, queue depth.
import { SERIES } from '../../../common/panelProtocol.js';
import { fill, h } from '../dom.js';
import { barChart, lineChart, type BarChartData, type Chart } from '../charts/lineChart.js';
import { formatNumber } from '../charts/scale.js';
import type { Section } from '../panelContext.js';
import { ValuesList, selectedModel } from './common.js';

export function batchingSection(): Section {
  const sizes = lineChart('Mean batch size');
  const depth = lineChart('Queue depth');
  const values = new ValuesList();
  const dists = h('div');
  const bars = new Map<string, Chart<BarChartData>>();
  const body = h('div', {}, sizes.canvas, h('p', { class: 'legend' }, 'mean batch size per version; below: queue depth'), depth.canvas, values.element, dists);
  let layout = '';
  return {
    id: 'batching',
    title: 'Batching',
    body,
    update(ctx) {
      const model = selectedModel(ctx);
      const versions = ctx.state.status?.models.find((m) => m.name === model)?.versions ?? [];
      sizes.update({ times: ctx.series.times, windowMs: ctx.windowMs, series: versions.map((v, i) => ({ label: `v${v.version}`, values: ctx.series.get(SERIES.batchSize(model!, v.version)), color: i })) });
      depth.update({ times: ctx.series.times, windowMs: ctx.windowMs, series: versions.map((v, i) => ({ label: `v${v.version}`, values: ctx.series.get(SERIES.queueDepth(model!, v.version)), color: i })) });
      values.set(
        versions.flatMap((v): [string, string][] => [
          [`v${v.version} mean batch`, formatNumber(ctx.series.last(SERIES.batchSize(model!, v.version)) ?? NaN)],
          [`v${v.version} queue depth`, String(v.batching.queue_depth)],
          [`v${v.version} max batch`, String(v.batching.max_batch_size)],
        ]),
      );
      sizes.canvas.setAttribute('aria-label', `Batching: ${values.text()}`);
      const keys = versions.map((v) => `${model}/${v.version}`).filter((k) => ctx.state.batchSizes[k]);
      if (keys.join() !== layout) {
        layout = keys.join();
        for (const b of bars.values()) b.dispose();
        bars.clear();
        fill(dists);
        for (const k of keys) {
          const chart = barChart(`Batch sizes of ${k}`);
          bars.set(k, chart);
          dists.append(h('h4', {}, `Batch sizes, ${k} (since start)`), chart.canvas);
        }
      }
      for (const [k, chart] of bars) {
        // +Inf arrives as null (JSON has no Infinity): never a bar.
        const buckets = (ctx.state.batchSizes[k] ?? []).filter((b) => typeof b.le === 'number' && Number.isFinite(b.le));
        chart.update({ labels: buckets.map((b) => `≤${b.le}`), values: buckets.map((b) => b.count) });
        chart.canvas.setAttribute('aria-label', `Batch sizes of ${k}: ${buckets.map((b) => `≤${b.le}: ${b.count}`).join(', ')}`);
      }
    },
  };
}
