// The Metrics panel's GPU section on a fleet. GPU indexes are per machine (GPU 0 of one replica is
// not GPU 0 of another), so summed or averaged over the fleet they would mean nothing: the whole
// fleet's charts say to select a replica, and one replica's charts read its own inferscope_gpu_*
// series (which its agent exports only where nvidia-smi finds a GPU). No VS Code imports.
import type { GpuStatus } from '../../../common/api.js';
import { SERIES } from '../../../common/panelProtocol.js';
import { promString, type Sample } from './prometheusQuery.js';

export const FLEET_GPU_MESSAGE = 'GPUs are per machine: select a replica in the Models tree to chart its GPUs.';

export type GpuQueryName = 'info' | 'utilization' | 'memoryUsed' | 'memoryTotal';

export function fleetGpuQueries(instance: string): Record<GpuQueryName, string> {
  const sel = `{instance=${promString(instance)}}`;
  return {
    info: `inferscope_gpu_info${sel}`,
    utilization: `inferscope_gpu_utilization_ratio${sel}`,
    memoryUsed: `inferscope_gpu_memory_used_bytes${sel}`,
    memoryTotal: `inferscope_gpu_memory_total_bytes${sel}`,
  };
}

/** The section's state for the whole fleet. */
export function fleetGpuStatus(): GpuStatus {
  return { detected: false, message: FLEET_GPU_MESSAGE, devices: [], sampled_at: null, errors: 0, last_error: null };
}

/** One replica's GPUs from its series at `t` (epoch ms): the section's state, and the chart values by series key. */
export function replicaGpus(instance: string, r: Record<GpuQueryName, Sample[]>, t: number): { gpus: GpuStatus; values: Record<string, number> } {
  const devices = new Map<number, GpuStatus['devices'][number]>();
  const device = (s: Sample) => {
    const index = Number(s.metric.gpu);
    if (!Number.isInteger(index) || index < 0) return undefined;
    if (!devices.has(index)) devices.set(index, { index, uuid: '', name: `GPU ${index}` });
    return devices.get(index)!;
  };
  for (const s of r.info) {
    const d = device(s);
    if (!d) continue;
    d.name = s.metric.name || d.name;
    d.uuid = s.metric.uuid ?? '';
    if (s.metric.mig_mode && s.metric.mig_mode !== 'unknown') d.mig_mode = s.metric.mig_mode;
  }
  const values: Record<string, number> = {};
  for (const [name, field, key] of [
    ['utilization', 'utilization', SERIES.gpuUtilization],
    ['memoryUsed', 'memory_used_bytes', SERIES.gpuMemoryBytes],
    ['memoryTotal', 'memory_total_bytes', undefined],
  ] as const) {
    for (const s of r[name]) {
      const d = device(s);
      if (!d || !Number.isFinite(s.value)) continue;
      d[field] = s.value;
      if (key) values[key(d.index)] = s.value;
    }
  }
  const list = [...devices.values()].sort((a, b) => a.index - b.index);
  const message = list.length
    ? `${instance}: ${list.length} GPU${list.length === 1 ? '' : 's'}: ${[...new Set(list.map((d) => d.name))].join(', ')}`
    : `${instance}: no GPU metrics (a replica's agent exports inferscope_gpu_* only where nvidia-smi finds a GPU)`;
  return { gpus: { detected: list.length > 0, message, devices: list, sampled_at: list.length ? t : null, errors: 0, last_error: null }, values };
}
