// Traffic: requests/s and errors/s per model over the last minutes, current values as numbers.
import { SERIES } from '../../../common/panelProtocol.js';
import { h } from '../dom.js';
import { lineChart, type LineSeries } from '../charts/lineChart.js';
import { formatNumber } from '../charts/scale.js';
import type { Section } from '../panelContext.js';
import { ValuesList } from './common.js';

export function trafficSection(): Section {
  const chart = lineChart('Requests and errors per second');
  const values = new ValuesList();
  const body = h('div', {}, chart.canvas, values.element);
  return {
    id: 'traffic',
    title: 'Traffic',
    body,
    summary: (ctx) => {
      const models = ctx.state.status?.models ?? [];
      const total = models.reduce((a, m) => a + (ctx.series.last(SERIES.requestsPerSecond(m.name)) ?? 0), 0);
      return `${formatNumber(total)} req/s`;
    },
    update(ctx) {
      const models = ctx.state.status?.models ?? [];
      const series: LineSeries[] = [];
      const entries: [string, string][] = [];
      models.forEach((m, i) => {
        series.push({ label: `${m.name} req/s`, values: ctx.series.get(SERIES.requestsPerSecond(m.name)), color: i });
        series.push({ label: `${m.name} errors/s`, values: ctx.series.get(SERIES.errorsPerSecond(m.name)), color: 'red', dashed: true });
        entries.push([`${m.name} req/s`, formatNumber(ctx.series.last(SERIES.requestsPerSecond(m.name)) ?? NaN)]);
        entries.push([`${m.name} errors/s`, formatNumber(ctx.series.last(SERIES.errorsPerSecond(m.name)) ?? NaN)]);
      });
      values.set(entries);
      chart.update({ times: ctx.series.times, series, windowMs: ctx.windowMs, unit: '/s' });
      chart.canvas.setAttribute('aria-label', `Requests and errors per second: ${values.text()}`);
    },
  };
}
