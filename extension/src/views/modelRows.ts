// What the Models tree shows for a status snapshot: one row per model, one per version with its
// state, breaker, traffic weight and execution provider. Pure (no `vscode`).
import type { AgentStatus, BreakerStatus, CanaryHead, ModelStatus, VersionStatus } from '../../../common/api.js';

export interface ModelRow {
  kind: 'model';
  name: string;
  description: string;
  tooltip: string;
  error: boolean;
  /** Every version unloaded (the model menu offers Load instead of Reload and Unload). */
  unloaded: boolean;
  versions: VersionRow[];
}

export interface VersionRow {
  kind: 'version';
  model: string;
  version: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id and a theme colour id. */
  icon: { id: string; color?: string };
  /** For menus: `version` plus the breaker state, e.g. `version:breaker-open`. */
  contextValue: string;
  weight: number;
}

/** Share (%) of the model's unversioned traffic each version gets: the canary split, else the default. */
export function trafficWeights(model: ModelStatus, canaries: CanaryHead[]): Map<string, number> {
  const weights = new Map<string, number>(model.versions.map((v) => [v.version, v.is_default ? 100 : 0]));
  const canary = canaries.find((c) => c.model === model.name && c.state === 'running');
  if (canary) {
    for (const k of weights.keys()) weights.set(k, 0);
    weights.set(canary.baseline, 100 - canary.weight);
    weights.set(canary.candidate, canary.weight);
  }
  return weights;
}

export function modelRows(status: AgentStatus): ModelRow[] {
  return status.models.map((m) => {
    const weights = trafficWeights(m, status.canaries);
    const canary = status.canaries.find((c) => c.model === m.name && c.state === 'running');
    const ready = m.versions.filter((v) => v.state === 'ready').length;
    const unloaded = m.versions.length > 0 && m.versions.every((v) => v.state === 'unloaded');
    const summary = m.error ? 'config error' : unloaded ? 'unloaded' : canary ? `canary ${canary.baseline}→${canary.candidate} at ${canary.weight}%` : `${ready}/${m.versions.length} ready`;
    return {
      kind: 'model',
      name: m.name,
      description: m.last_load_error ? `${summary} · last load failed` : summary,
      tooltip: [m.error ?? `${m.name}: ${m.versions.length} version(s), default ${m.default_version ?? '(none)'}`, ...(m.last_load_error ? [`Last load failed (the versions shown kept serving): ${m.last_load_error}`] : [])].join('\n'),
      error: m.error !== undefined,
      unloaded,
      versions: m.versions.map((v) => versionRow(m.name, v, weights.get(v.version) ?? 0)),
    };
  });
}

function versionRow(model: string, v: VersionStatus, weight: number): VersionRow {
  const parts: string[] = [v.state];
  if (v.breaker && v.breaker.state !== 'closed') parts.push(`breaker ${v.breaker.state.replace('_', '-')}`);
  parts.push(`${weight}%`);
  if (v.execution_provider) parts.push(v.provider_fallbacks?.length ? `${v.execution_provider} (fallback)` : v.execution_provider);
  return {
    kind: 'version',
    model,
    version: v.version,
    label: `v${v.version}${v.is_default ? ' (default)' : ''}`,
    description: parts.join(' · '),
    tooltip: versionTooltip(model, v, weight),
    icon: versionIcon(v),
    contextValue: `version:breaker-${v.breaker?.state ?? 'none'}`,
    weight,
  };
}

function versionIcon(v: VersionStatus): VersionRow['icon'] {
  if (v.state === 'failed') return { id: 'error', color: 'errorForeground' };
  if (v.state === 'loading') return { id: 'loading~spin' };
  if (v.state === 'unloaded') return { id: 'circle-slash' };
  switch (v.breaker?.state) {
    case 'open':
      return { id: 'circle-filled', color: 'testing.iconFailed' };
    case 'half_open':
      return { id: 'circle-large-outline', color: 'testing.iconQueued' };
    default:
      return { id: 'pass', color: 'testing.iconPassed' };
  }
}

export function breakerSummary(b: BreakerStatus): string {
  const w = b.window;
  const lines = [
    `Breaker: ${b.state.replace('_', '-')}${b.forced ? ' (forced)' : ''}, tripped ${b.trips} time(s)`,
    `Window: ${w.calls} calls, ${w.failures} failed (${(w.failure_rate * 100).toFixed(1)}%), ${w.slow} slow`,
    `Totals: ${b.totals.successes} ok, ${b.totals.failures} failed, ${b.totals.rejected} rejected`,
  ];
  if (b.opened_at !== null) lines.push(`Opened at ${new Date(b.opened_at).toLocaleTimeString()}`);
  if (b.next_trial_at !== null) lines.push(`Next trial at ${new Date(b.next_trial_at).toLocaleTimeString()}`);
  if (b.last_reason) lines.push(`Reason: ${b.last_reason}`);
  return lines.join('\n');
}

function versionTooltip(model: string, v: VersionStatus, weight: number): string {
  const lines = [`${model} version ${v.version}: ${v.state}${v.reason ? ` (${v.reason})` : ''}`, `Traffic: ${weight}% of unversioned requests`];
  if (v.execution_provider === 'cpu') lines.push(`Execution provider: cpu, ${v.instances} instance(s)`);
  else if (v.execution_provider) lines.push(`Execution provider: ${v.execution_provider} (on its device thread; up to ${v.instances} batch(es) waiting on the device)`);
  for (const f of v.provider_fallbacks ?? []) lines.push(`Not on ${f}`);
  lines.push(`Queue: ${v.batching.queue_depth} waiting, max batch ${v.batching.max_batch_size}`);
  if (v.breaker) lines.push(breakerSummary(v.breaker));
  if (v.fault) lines.push(`Fault injected: error rate ${v.fault.error_rate}, +${v.fault.latency_ms} ms`);
  return lines.join('\n');
}
