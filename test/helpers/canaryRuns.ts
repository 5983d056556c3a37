// Canaries through the real controller on seeded synthetic traffic and a fake clock: for tests
// that need whole canaries (the ledger, re-judging, the report) without an agent.
import type { Canary } from '../../common/api.js';
import { CanaryController } from '../../agent/src/canary/canaryController.js';
import { canarySpecSchema } from '../../agent/src/canary/canarySpec.js';
import type { CanaryPersistence } from '../../agent/src/canary/canaryStore.js';
import { silentLogger } from '../../agent/src/log/logger.js';
import type { ModelManager } from '../../agent/src/models/modelManager.js';
import { breakerSettingsSchema } from '../../agent/src/resilience/breakerSettings.js';
import { CircuitBreaker } from '../../agent/src/resilience/circuitBreaker.js';
import { seededRandom } from '../../scripts/lib/random.js';
import { FakeClock } from './fakeClock.js';

/** Canaries kept in memory, as the store keeps them on disk. */
export class MemoryPersistence implements CanaryPersistence {
  canaries: Canary[] = [];
  defaults: Record<string, string> = {};
  save(c: Canary): void {
    const i = this.canaries.findIndex((x) => x.id === c.id);
    if (i >= 0) this.canaries[i] = c;
    else this.canaries.push(c);
  }
}

/** A model `m` with versions 1 and 2: what the canary controller asks of the model manager (their breakers, the default). */
export function fakeModels(): ModelManager {
  const breakers = new Map(['1', '2'].map((v) => [v, new CircuitBreaker(`m/${v}`, breakerSettingsSchema.parse({}), new FakeClock())]));
  return { status: () => [{ name: 'm', default_version: '1', versions: [] }], resolve: (_m: string, v: string) => ({ breaker: breakers.get(v)! }), setDefaultVersion: () => undefined } as unknown as ModelManager;
}

export interface Traffic {
  perCheck: number;
  candidateError?: number;
  baseError?: number;
  slower?: number;
  /** From this check on (0-based), no requests at all. */
  silentFrom?: number;
}

/** A canary through the real controller and a fake clock, on seeded traffic; at most `maxChecks` checks, then aborted. */
export function simulate(spec: object, seed: number, t: Traffic, maxChecks = 40): Canary {
  const rnd = seededRandom(seed);
  const clock = new FakeClock();
  const controller = new CanaryController(fakeModels(), new MemoryPersistence(), clock, silentLogger, rnd);
  const c = controller.start(canarySpecSchema.parse({ model: 'm', candidate: '2', interval_s: 10, ...spec }));
  while (controller.get(c.id).state === 'running' && controller.get(c.id).checks.length < maxChecks) {
    const quiet = t.silentFrom !== undefined && controller.get(c.id).checks.length >= t.silentFrom;
    for (let i = 0; i < (quiet ? 0 : t.perCheck); i++) {
      const version = controller.route('m') ?? '1';
      const cand = version === '2';
      const ok = rnd() >= (cand ? (t.candidateError ?? t.baseError ?? 0.01) : (t.baseError ?? 0.01));
      const latency = (5 + 10 * -Math.log(1 - rnd())) * (cand ? (t.slower ?? 1) : 1);
      controller.record({ model: 'm', version, ok, latencyMs: latency, classes: [Math.floor(rnd() * 10)], confidences: [0.5 + 0.5 * rnd()] });
    }
    clock.advance(10_000);
  }
  if (controller.get(c.id).state === 'running') controller.abort(c.id);
  const done = structuredClone(controller.get(c.id));
  controller.close();
  return done;
}

