// GPU: the versions placed on a GPU execution provider and the share of time each keeps its device
// busy (from the agent's own accounting, any GPU); utilization and memory per GPU from nvidia-smi
// when present.
import { SERIES } from '../../../common/panelProtocol.js';
import { h, setText } from '../dom.js';
import { lineChart } from '../charts/lineChart.js';
import { formatBytes } from '../charts/scale.js';
import type { Section } from '../panelContext.js';
import { ValuesList } from './common.js';

export function gpuSection(): Section {
  const note = h('p', { class: 'muted' });
  const util = lineChart('GPU utilization');
  const busy = lineChart('Device busy, by version');
  const placed = new ValuesList();
  const values = new ValuesList();
  const body = h('div', {}, placed.element, busy.canvas, note, util.canvas, values.element);
  return {
    id: 'gpu',
    title: 'GPU',
    body,
    summary: (ctx) => ctx.state.status?.gpus.message ?? '',
    update(ctx) {
      // Versions on a GPU provider, and versions that fell back from one (and why).
      const versions = (ctx.state.status?.models ?? []).flatMap((m) => m.versions.map((v) => ({ key: `${m.name}/${v.version}`, model: m.name, v })));
      const onGpu = versions.filter(({ v }) => v.execution_provider && v.execution_provider !== 'cpu');
      const share = (model: string, version: string) => ctx.series.get(SERIES.deviceBusy(model, version));
      busy.canvas.hidden = onGpu.length === 0;
      busy.update({ times: ctx.series.times, windowMs: ctx.windowMs, yMax: 1, series: onGpu.map(({ key, model, v }, i) => ({ label: key, values: share(model, v.version), color: i })) });
      placed.set(
        versions
          .filter(({ v }) => onGpu.some((g) => g.v === v) || v.provider_fallbacks?.length)
          .map(({ key, model, v }): [string, string] => {
            const last = share(model, v.version).at(-1);
            const busyText = last !== undefined && last !== null && !Number.isNaN(last) ? `, busy ${(last * 100).toFixed(0)}%` : '';
            const fallback = v.provider_fallbacks?.length ? ` (fell back: ${v.provider_fallbacks.join('; ')})` : '';
            return [key, `${v.execution_provider ?? v.state}${busyText}${fallback}`];
          }),
      );
      busy.canvas.setAttribute('aria-label', `Device busy by version: ${placed.text()}`);
      const g = ctx.state.status?.gpus;
      setText(note, g?.message ?? 'Agent not running.');
      const devices = g?.devices ?? [];
      util.canvas.hidden = devices.length === 0;
      util.update({ times: ctx.series.times, windowMs: ctx.windowMs, yMax: 1, series: devices.map((d, i) => ({ label: `GPU ${d.index}`, values: ctx.series.get(SERIES.gpuUtilization(d.index)), color: i })) });
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
