// GPU: utilization and memory per GPU when present; "no GPU detected" otherwise.
import { SERIES } from '../../../common/panelProtocol.js';
import { h, setText } from '../dom.js';
import { lineChart } from '../charts/lineChart.js';
import { formatBytes } from '../charts/scale.js';
import { type Section, windowMs } from '../panelContext.js';
import { ValuesList } from './common.js';

export function gpuSection(): Section {
  const note = h('p', { class: 'muted' });
  const util = lineChart('GPU utilization');
  const values = new ValuesList();
  const body = h('div', {}, note, util.canvas, values.element);
  return {
    id: 'gpu',
    title: 'GPU',
    body,
    summary: (ctx) => ctx.state.status?.gpus.message ?? '',
    update(ctx) {
      const g = ctx.state.status?.gpus;
      setText(note, g?.message ?? 'Agent not running.');
      const devices = g?.devices ?? [];
      util.canvas.hidden = devices.length === 0;
      util.update({ times: ctx.series.times, windowMs: windowMs(ctx.series.times), yMax: 1, series: devices.map((d, i) => ({ label: `GPU ${d.index}`, values: ctx.series.get(SERIES.gpuUtilization(d.index)), color: i })) });
      values.set(
        devices.flatMap((d): [string, string][] => [
          [`GPU ${d.index}`, d.name],
          [`GPU ${d.index} utilization`, d.utilization !== undefined ? `${(d.utilization * 100).toFixed(0)}%` : '–'],
          [`GPU ${d.index} memory`, d.memory_used_bytes !== undefined && d.memory_total_bytes !== undefined ? `${formatBytes(d.memory_used_bytes)} / ${formatBytes(d.memory_total_bytes)}` : '–'],
        ]),
      );
      util.canvas.setAttribute('aria-label', `GPU utilization: ${values.text()}`);
    },
  };
}
