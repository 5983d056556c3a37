// Feature cache: hit rate over time, entries and bytes, evictions.
import { SERIES } from '../../../common/panelProtocol.js';
import { h } from '../dom.js';
import { lineChart } from '../charts/lineChart.js';
import { formatBytes } from '../charts/scale.js';
import type { Section } from '../panelContext.js';
import { ValuesList } from './common.js';

export function cacheSection(): Section {
  const chart = lineChart('Feature cache hit rate');
  const values = new ValuesList();
  const empty = h('p', { class: 'muted' }, 'No model has a feature source.');
  const body = h('div', {}, chart.canvas, values.element, empty);
  return {
    id: 'cache',
    title: 'Feature cache',
    body,
    update(ctx) {
      const caches = Object.entries(ctx.state.status?.caches ?? {});
      empty.hidden = caches.length > 0;
      chart.canvas.hidden = caches.length === 0;
      chart.update({ times: ctx.series.times, windowMs: ctx.windowMs, yMax: 1, series: caches.map(([m], i) => ({ label: m, values: ctx.series.get(SERIES.cacheHitRate(m)), color: i })) });
      values.set(
        caches.flatMap(([m, c]): [string, string][] => [
          [`${m} hit rate (all time)`, `${(c.hit_rate * 100).toFixed(1)}%`],
          [`${m} entries`, `${c.entries} / ${c.max_entries}`],
          [`${m} bytes`, `${formatBytes(c.bytes)} / ${formatBytes(c.max_bytes)}`],
          [`${m} evictions`, `${c.evictions.capacity} capacity, ${c.evictions.expired} expired`],
          [`${m} source`, `${c.source.kind} ${c.source.healthy ? 'healthy' : `unhealthy: ${c.source.last_error ?? ''}`}`],
        ]),
      );
      chart.canvas.setAttribute('aria-label', `Feature cache: ${values.text()}`);
    },
  };
}
