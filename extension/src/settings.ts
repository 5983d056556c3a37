// The extension's settings (package.json `contributes.configuration`), read in one place.
import * as vscode from 'vscode';
import type { LocalAgentSettings } from './agent/agentCommandLine.js';

export const SECTION = 'inferscope';

export interface ModelDefaults {
  dynamic_batching?: { max_queue_delay_ms?: number; max_queue_size?: number };
  feature_cache?: { ttl_ms?: number; max_entries?: number };
}

export interface Settings {
  agent: Omit<LocalAgentSettings, 'configFile'> & { url: string; autoStart: boolean; readyTimeoutSeconds: number };
  modelDefaults: ModelDefaults;
  canary: { steps: number[]; intervalSeconds: number; checksPerStep: number; alpha: number };
  testTraffic: { requests: number; concurrency: number };
  /** A fleet behind the agent URL (a load balancer): its Prometheus, and what its canaries judge from. */
  fleet: { prometheusUrl: string; canarySource: 'prometheus' | 'in_process' };
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const num = (key: string): number | undefined => {
    const v = c.get<number | null>(key);
    return typeof v === 'number' ? v : undefined;
  };
  const batching = { max_queue_delay_ms: num('batching.maxQueueDelayMs'), max_queue_size: num('batching.maxQueueSize') };
  const cache = { ttl_ms: num('cache.ttlSeconds') !== undefined ? num('cache.ttlSeconds')! * 1000 : undefined, max_entries: num('cache.maxEntries') };
  return {
    agent: {
      url: c.get<string>('agent.url', '').trim(),
      nodePath: c.get<string>('agent.nodePath', '').trim(),
      modelRepository: c.get<string>('agent.modelRepository', '').trim(),
      port: c.get<number>('agent.port', 0),
      logLevel: c.get<LocalAgentSettings['logLevel']>('agent.logLevel', 'info'),
      enableFaults: c.get<boolean>('agent.enableFaults', false),
      autoStart: c.get<boolean>('agent.autoStart', true),
      readyTimeoutSeconds: c.get<number>('agent.readyTimeoutSeconds', 60),
    },
    modelDefaults: {
      ...(Object.values(batching).some((v) => v !== undefined) ? { dynamic_batching: stripUndefined(batching) } : {}),
      ...(Object.values(cache).some((v) => v !== undefined) ? { feature_cache: stripUndefined(cache) } : {}),
    },
    canary: {
      steps: c.get<number[]>('canary.steps', [10, 25, 50, 100]),
      intervalSeconds: c.get<number>('canary.intervalSeconds', 30),
      checksPerStep: c.get<number>('canary.checksPerStep', 4),
      alpha: c.get<number>('canary.alpha', 0.05),
    },
    testTraffic: { requests: c.get<number>('testTraffic.requests', 200), concurrency: c.get<number>('testTraffic.concurrency', 8) },
    fleet: { prometheusUrl: c.get<string>('fleet.prometheusUrl', '').trim(), canarySource: c.get<string>('fleet.canarySource', 'prometheus') === 'in_process' ? 'in_process' : 'prometheus' },
  };
}

/** Settings the running agent was launched with: changing one needs a restart. */
export const RESTART_KEYS = [
  'agent.url',
  'agent.nodePath',
  'agent.modelRepository',
  'agent.port',
  'agent.logLevel',
  'agent.enableFaults',
  'batching.maxQueueDelayMs',
  'batching.maxQueueSize',
  'cache.ttlSeconds',
  'cache.maxEntries',
].map((k) => `${SECTION}.${k}`);

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
