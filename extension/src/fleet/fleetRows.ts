// What the Models tree shows of a fleet: a "Fleet" row (Prometheus's address and a summary), under
// it one row per replica (up or down, its build, its breakers in short), and under each replica its
// breakers per model version. Pure (no `vscode`): the tree turns rows into items.
import { fleetSummary, type FleetReplica, type FleetView, type ReplicaBreaker } from './fleetTargets.js';
import { SET_CREDENTIALS_TITLE } from './prometheusAuth.js';

export interface TreeRowBase {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id and a theme colour id. */
  icon: { id: string; color?: string };
  contextValue: string;
}

export interface FleetRow extends TreeRowBase {
  kind: 'fleet';
  replicas: ReplicaRow[];
}

export interface ReplicaRow extends TreeRowBase {
  kind: 'replica';
  name: string;
  instance: string;
  url: string;
  health: FleetReplica['health'];
  breakers: ReplicaBreakerRow[];
}

export interface ReplicaBreakerRow extends TreeRowBase {
  kind: 'replicaBreaker';
  replica: string;
  model: string;
  version: string;
  state: ReplicaBreaker['state'];
}

/** `chartsReplica`: the instance the Metrics charts show alone (said on the Fleet row), else the fleet. */
export function fleetRow(prometheusUrl: string, view: FleetView | undefined, error: string | undefined, chartsReplica?: string): FleetRow {
  if (!view) {
    return {
      kind: 'fleet',
      id: 'fleet',
      label: 'Fleet',
      // A 401/403's message names the credentials command (prometheusAuth.ts).
      description: error ? (error.includes(SET_CREDENTIALS_TITLE) ? 'Prometheus needs credentials' : 'Prometheus unreachable') : 'reading Prometheus…',
      tooltip: error ?? `Reading the fleet's replicas from ${prometheusUrl}`,
      icon: error ? { id: 'warning', color: 'problemsWarningIcon.foreground' } : { id: 'loading~spin' },
      contextValue: 'fleet',
      replicas: [],
    };
  }
  const replicas = view.replicas.map(replicaRow);
  return {
    kind: 'fleet',
    id: 'fleet',
    label: 'Fleet',
    description: (view.replicas.length ? fleetSummary(view) : 'no Inferscope targets in Prometheus') + (chartsReplica !== undefined ? ` · charts: ${view.replicas.find((r) => r.instance === chartsReplica)?.name ?? chartsReplica}` : ''),
    tooltip: `Replicas scraped by ${view.prometheusUrl} (every ${view.scrapeIntervalS} s). Select a replica for its own Metrics charts, the Fleet row for the whole fleet's.`,
    icon: { id: 'server-environment', ...(replicas.some((r) => r.health === 'down') ? { color: 'problemsWarningIcon.foreground' } : {}) },
    contextValue: 'fleet',
    replicas,
  };
}

function replicaRow(r: FleetReplica): ReplicaRow {
  const notClosed = r.breakers.filter((b) => b.state !== 'closed');
  const description =
    r.health === 'down'
      ? `down · ${r.instance}`
      : [r.health === 'unknown' ? 'not scraped yet' : 'up', r.instance, ...(r.build ? [`v${r.build}`] : []), notClosed.length ? notClosed.map((b) => `${b.model} v${b.version} breaker ${b.state.replace('_', '-')}`).join(', ') : `${r.breakers.length} breaker${r.breakers.length === 1 ? '' : 's'} closed`].join(' · ');
  const tooltip = [
    `${r.name} (${r.url}, job ${r.job}): ${r.health}`,
    ...(r.health === 'down' ? [`Last scrape failed: ${r.lastError || 'no answer'}`] : []),
    ...(r.build ? [`Agent ${r.build}`] : []),
    ...r.breakers.map((b) => `${b.model} v${b.version}: breaker ${b.state.replace('_', '-')}`),
  ].join('\n');
  return {
    kind: 'replica',
    id: `replica:${r.job}/${r.instance}`,
    name: r.name,
    instance: r.instance,
    url: r.url,
    health: r.health,
    label: r.name,
    description,
    tooltip,
    icon: r.health === 'down' ? { id: 'debug-disconnect', color: 'errorForeground' } : notClosed.length ? { id: 'warning', color: 'problemsWarningIcon.foreground' } : r.health === 'up' ? { id: 'vm-running', color: 'testing.iconPassed' } : { id: 'vm-outline' },
    contextValue: `replica:${r.health}`,
    breakers: r.breakers.map((b) => ({
      kind: 'replicaBreaker',
      id: `replica:${r.job}/${r.instance}/${b.model}/${b.version}`,
      replica: r.name,
      model: b.model,
      version: b.version,
      state: b.state,
      label: `${b.model} v${b.version}`,
      description: `breaker ${b.state.replace('_', '-')}`,
      tooltip: `${b.model} version ${b.version} on ${r.name}: breaker ${b.state.replace('_', '-')}`,
      icon: b.state === 'open' ? { id: 'circle-filled', color: 'testing.iconFailed' } : b.state === 'half_open' ? { id: 'circle-large-outline', color: 'testing.iconQueued' } : { id: 'pass', color: 'testing.iconPassed' },
      contextValue: `replicaBreaker:${b.state}`,
    })),
  };
}
