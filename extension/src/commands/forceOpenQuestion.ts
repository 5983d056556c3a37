// Force Open Circuit Breaker… asks first when the open breaker would refuse a model's traffic:
// the version is the model's default (every request that names no version goes there and would get
// 503), or no other ready version of the model has a breaker that lets requests through. Forcing
// open a non-default version while another one serves is a drill and needs no question.
// Pure (no `vscode`).
import type { AgentStatus } from '../../../common/api.js';

export const FORCE_OPEN = 'Force Open';

/** The confirmation to ask before forcing `model/version` open, or undefined when none is needed. */
export function forceOpenQuestion(status: AgentStatus | undefined, model: string, version: string): string | undefined {
  const m = status?.models.find((x) => x.name === model);
  if (!m) return undefined;
  const others = m.versions.filter((v) => v.version !== version && v.state === 'ready' && v.breaker?.state !== 'open');
  const isDefault = m.default_version === version || m.versions.some((v) => v.version === version && v.is_default);
  const tail = 'until you reset it (Reset Circuit Breaker).';
  if (others.length === 0) return `Force the breaker of ${model} version ${version} open? No other version of ${model} is serving: every request to ${model} will be refused (503) ${tail}`;
  if (isDefault) {
    const rest = others.map((v) => v.version).join(', ');
    return `Force the breaker of ${model} version ${version} open? It is the default version: every request to ${model} that names no version will be refused (503) ${tail} Requests naming version ${rest} are still served.`;
  }
  return undefined;
}
