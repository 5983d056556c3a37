// Runs canaries: splits a model's unversioned traffic between baseline and candidate, collects
// what each served in the current step, checks every interval, and moves the weight, promotes or
// rolls back. One canary per model. Knows nothing of HTTP; time comes from the injected clock.
//
// Restart policy: canary samples live in memory, so a canary found running in the state folder
// when the agent starts is rolled back (traffic is on the baseline, which is still the default),
// with a reason that says so. Promotions are persisted and survive restarts.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Canary, CanaryCheck, CheckDecision } from '../../../common/api.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ModelManager } from '../models/modelManager.js';
import type { Clock, Timer } from '../time/clock.js';
import { alphaPerTest, decide, endStep, initialState, runCheck, testLevels, type CheckInput, type SequentialState, type TestKey } from './canaryAnalysis.js';
import { collectFromPrometheus, PrometheusSourceError, type CollectedSamples } from './prometheusSource.js';
import { PrometheusAllowlist, type PrometheusTarget } from './prometheusUrls.js';
import { VersionSamples } from './canarySamples.js';
import type { CanarySpec } from './canarySpec.js';
import { thresholdsOf } from './canarySpec.js';
import type { CanaryPersistence } from './canaryStore.js';

export interface CanarySample {
  model: string;
  version: string;
  /** false: the model failed the request (client errors are not samples). */
  ok: boolean;
  latencyMs: number;
  classes?: number[];
  confidences?: number[];
}

interface Running {
  canary: Canary;
  baseline: VersionSamples;
  candidate: VersionSamples;
  /** Over the whole canary (the error rate is judged on these). */
  baselineTotal: { requests: number; errors: number };
  candidateTotal: { requests: number; errors: number };
  checkInStep: number;
  inconclusive: number;
  /** What the anytime tests carry between checks. */
  sequential: SequentialState;
  levels: Record<TestKey, number>;
  /** Totals at the previous check: each check adds what came in since. */
  lastBaselineTotal: { requests: number; errors: number };
  lastCandidateTotal: { requests: number; errors: number };
  breakerOpened: boolean;
  /** Wall-clock ms when the current step began (the Prometheus window). */
  stepStartedAt: number;
  /** The configured Prometheus the canary named, credentials included: kept in memory only. */
  prometheus?: PrometheusTarget;
  /** The fleet's shared anchor (epoch ms): checks fall on its grid and read windows ending at evalAt(). */
  anchorMs?: number;
  timer?: Timer;
  unsubscribe: () => void;
}

export class CanaryController extends EventEmitter<{ canary: [Canary, CanaryCheck | undefined] }> {
  private readonly running = new Map<string, Running>(); // by model
  private closed = false;

  constructor(
    private readonly models: ModelManager,
    private readonly store: CanaryPersistence,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
    private readonly wallNow: () => Date = () => new Date(),
    /** The config's `prometheus_urls`; none by default, so Prometheus sources are off. */
    private readonly prometheusUrls: PrometheusAllowlist = new PrometheusAllowlist([]),
  ) {
    super();
  }

  /** After a restart: canaries left running are rolled back (see the policy above). */
  recover(): void {
    for (const c of this.store.canaries) {
      if (c.state !== 'running') continue;
      const ended: Canary = {
        ...c,
        state: 'rolled_back',
        weight: 0,
        decision: 'rollback',
        reason: 'the agent restarted during the canary (its samples were in memory); traffic is back on the baseline',
        ended_at: this.wallNow().toISOString(),
      };
      this.store.save(ended);
      this.logger.warn('canary rolled back after restart', { canary: c.id, model: c.model });
    }
  }

  list(): Canary[] {
    return this.store.canaries.map((c) => this.running.get(c.model)?.canary.id === c.id ? this.running.get(c.model)!.canary : c);
  }

  get(id: string): Canary {
    const c = this.list().find((x) => x.id === id);
    if (!c) throw new NotFoundError(`no canary "${id}"`);
    return c;
  }

  /** Current candidate weight per running canary's model (for metrics and status). */
  weights(): { model: string; baseline: string; candidate: string; weight: number }[] {
    return [...this.running.values()].map((r) => ({ model: r.canary.model, baseline: r.canary.baseline, candidate: r.canary.candidate, weight: r.canary.weight }));
  }

  /** The version that serves an unversioned request for `model`, or undefined: the default. */
  route(model: string): string | undefined {
    const r = this.running.get(model);
    if (!r) return undefined;
    return this.random() * 100 < r.canary.weight ? r.canary.candidate : r.canary.baseline;
  }

  record(s: CanarySample): void {
    const r = this.running.get(s.model);
    if (!r) return;
    const isCandidate = s.version === r.canary.candidate;
    if (!isCandidate && s.version !== r.canary.baseline) return;
    (isCandidate ? r.candidate : r.baseline).add(s.ok, s.latencyMs, s.classes, s.confidences);
    const total = isCandidate ? r.candidateTotal : r.baselineTotal;
    total.requests++;
    if (!s.ok) total.errors++;
  }

  start(spec: CanarySpec): Canary {
    if (this.running.has(spec.model)) {
      throw new ConflictError(`a canary is already running for ${spec.model} (${this.running.get(spec.model)!.canary.id}); abort it first`);
    }
    const status = this.models.status().find((m) => m.name === spec.model);
    if (!status) throw new NotFoundError(`unknown model "${spec.model}"`);
    const baseline = spec.baseline ?? status.default_version;
    if (!baseline || baseline !== status.default_version) {
      throw new InvalidInputError(`baseline must be ${spec.model}'s default version (${status.default_version}); got ${baseline}`);
    }
    if (spec.candidate === baseline) throw new InvalidInputError('candidate and baseline are the same version');
    // Only a configured server, and the canary keeps its URL without credentials.
    const prometheus = spec.source.kind === 'prometheus' ? this.prometheusUrls.resolve(spec.source.url) : undefined;
    const anchorMs = spec.source.kind === 'prometheus' && spec.source.anchor !== undefined ? Date.parse(spec.source.anchor) : undefined;
    if (anchorMs !== undefined) {
      // Behind by at most one interval (so the first grid point is still ahead: no overdue check at
      // once) and by at most 30 s (the first window reads little from before the split); ahead by at
      // most 5 s (clock skew).
      const ahead = anchorMs - this.wallNow().getTime();
      const behindMs = Math.min(spec.interval_s * 1000, MAX_ANCHOR_BEHIND_MS);
      if (ahead < -behindMs || ahead > MAX_ANCHOR_AHEAD_MS) {
        throw new InvalidInputError(
          `source.anchor must be at most ${behindMs / 1000} s (one interval, at most ${MAX_ANCHOR_BEHIND_MS / 1000}) before this agent's clock and at most ${MAX_ANCHOR_AHEAD_MS / 1000} s after it; ` +
            `it is ${(Math.abs(ahead) / 1000).toFixed(1)} s ${ahead < 0 ? 'before' : 'after'} (start every replica's canary right after taking the anchor, and keep the clocks in sync)`,
        );
      }
    }
    const candidate = this.models.resolve(spec.model, spec.candidate); // 404 / 503 if not servable
    this.models.resolve(spec.model, baseline);
    const thresholds = thresholdsOf(spec);
    const plannedChecks = spec.steps.length * spec.checks_per_step;
    const levels = testLevels(spec.method, thresholds, plannedChecks);
    const canary: Canary = {
      id: `c-${randomBytes(8).toString('hex')}`,
      model: spec.model,
      baseline,
      candidate: spec.candidate,
      state: 'running',
      weight: spec.steps[0]!,
      steps: spec.steps,
      step: 0,
      interval_s: spec.interval_s,
      checks_per_step: spec.checks_per_step,
      thresholds,
      alpha_per_test: spec.method === 'bonferroni' ? alphaPerTest(thresholds, plannedChecks) : null,
      method: spec.method,
      open_ended: spec.open_ended,
      alpha_levels: levels,
      source: prometheus ? { kind: 'prometheus', url: prometheus.url, ...(anchorMs !== undefined ? { anchor: new Date(anchorMs).toISOString() } : {}) } : spec.source,
      started_at: this.wallNow().toISOString(),
      ended_at: null,
      checks: [],
      decision: null,
      reason: null,
    };
    const onTransition = (t: { to: string }) => {
      if (t.to === 'open') run.breakerOpened = true;
    };
    candidate.breaker.on('transition', onTransition);
    const run: Running = {
      canary,
      baseline: new VersionSamples(this.random),
      candidate: new VersionSamples(this.random),
      baselineTotal: { requests: 0, errors: 0 },
      candidateTotal: { requests: 0, errors: 0 },
      checkInStep: 0,
      inconclusive: 0,
      sequential: initialState(),
      levels,
      lastBaselineTotal: { requests: 0, errors: 0 },
      lastCandidateTotal: { requests: 0, errors: 0 },
      breakerOpened: candidate.breaker.currentState === 'open',
      stepStartedAt: anchorMs ?? this.wallNow().getTime(),
      ...(prometheus ? { prometheus } : {}),
      ...(anchorMs !== undefined ? { anchorMs } : {}),
      unsubscribe: () => candidate.breaker.off('transition', onTransition),
    };
    this.running.set(spec.model, run);
    this.store.save(canary);
    this.logger.info('canary started', { canary: canary.id, model: canary.model, baseline, candidate: canary.candidate, weight: canary.weight });
    this.emit('canary', canary, undefined);
    this.schedule(run);
    return canary;
  }

  abort(id: string): Canary {
    const run = [...this.running.values()].find((r) => r.canary.id === id);
    if (!run) {
      const c = this.get(id); // 404 if unknown
      throw new ConflictError(`canary ${id} is not running (it is ${c.state})`);
    }
    return this.finish(run, 'aborted', 'abort', 'aborted by request; all traffic back on the baseline');
  }

  close(): void {
    this.closed = true;
    for (const r of this.running.values()) {
      r.timer?.cancel();
      r.unsubscribe();
    }
  }

  private schedule(run: Running): void {
    // On a fleet's grid the next check is at its grid point, however long this one took (no drift
    // apart). A replica that fell behind (a check slower than an interval, a stalled loop) catches up
    // on the grid points it missed, at once: their windows are past and settled, so it still records
    // what the other replicas did, check for check.
    const delay = run.anchorMs === undefined ? run.canary.interval_s * 1000 : Math.max(0, gridPoint(run, run.canary.checks.length + 1) - this.wallNow().getTime());
    run.timer = this.clock.setTimer(delay, () => this.check(run));
  }

  /**
   * One check. In-process samples are at hand, so the check runs at once (deterministic under an
   * injected clock); Prometheus is asked first, and an unanswered query makes the check inconclusive.
   */
  private check(run: Running): void {
    const c = run.canary;
    if (this.closed || this.running.get(c.model) !== run) return;
    if (!run.prometheus) {
      this.evaluate(run, { baseline: run.baseline, candidate: run.candidate, baselineTotal: run.baselineTotal, candidateTotal: run.candidateTotal, breakerOpened: false });
      return;
    }
    const now = evalAt(run, c.checks.length + 1) ?? this.wallNow().getTime();
    const target = run.prometheus;
    collectFromPrometheus({
      target,
      model: c.model,
      baseline: c.baseline,
      candidate: c.candidate,
      stepSeconds: (now - run.stepStartedAt) / 1000,
      canarySeconds: (now - (run.anchorMs ?? Date.parse(c.started_at))) / 1000,
      ...(run.anchorMs !== undefined ? { time: now } : {}),
      onUpstreamDetail: (detail) => this.logger.debug('Prometheus query failed', { canary: c.id, prometheus: target.url, upstream: detail }),
    }).then(
      (data) => this.evaluate(run, data),
      // Reasons are shown and stored: only the source's fixed messages, never another error's text.
      (err: Error) => {
        if (!(err instanceof PrometheusSourceError)) this.logger.warn('Prometheus check failed', { canary: c.id, error: err.message });
        this.evaluate(run, undefined, err instanceof PrometheusSourceError ? err.message : `Prometheus at ${target.url} could not be queried`);
      },
    );
  }

  private evaluate(run: Running, data: CollectedSamples | undefined, sourceError?: string): void {
    const c = run.canary;
    if (this.closed || this.running.get(c.model) !== run) return; // aborted or shutting down meanwhile
    try {
      this.evaluateChecked(run, data, sourceError);
    } catch (err) {
      // E.g. a promotion that cannot be persisted (the store throws). Never leave traffic split with nobody watching.
      this.logger.error('canary check failed; rolling back', { canary: c.id, error: (err as Error).message });
      run.timer?.cancel();
      run.unsubscribe();
      this.running.delete(c.model);
      c.state = 'rolled_back';
      c.weight = 0;
      c.decision = 'rollback';
      c.reason = `the canary could not continue: ${(err as Error).message}`;
      c.ended_at = this.wallNow().toISOString();
      try {
        this.store.save(c); // history only: written later, and not what failed (a promotion throws at once)
      } catch {
        // logged above
      }
      this.emit('canary', c, undefined);
    }
  }

  private evaluateChecked(run: Running, data: CollectedSamples | undefined, sourceError?: string): void {
    const c = run.canary;
    // On a fleet's grid the breaker comes from Prometheus (every replica's, over the same window):
    // this replica's own, read now, would let it decide apart from the others.
    const onGrid = run.anchorMs !== undefined && data !== undefined;
    let breakerOpened = !onGrid && run.breakerOpened;
    try {
      const open = this.models.resolve(c.model, c.candidate).breaker.currentState === 'open';
      if (!onGrid) breakerOpened ||= open;
    } catch {
      breakerOpened = true; // the candidate cannot serve at all
    }
    const baselineTotal = data?.baselineTotal ?? run.lastBaselineTotal;
    const candidateTotal = data?.candidateTotal ?? run.lastCandidateTotal;
    // Counters only grow; a Prometheus series that restarted (a replica came back) adds nothing.
    const since = (now: { requests: number; errors: number }, before: { requests: number; errors: number }) => ({
      requests: Math.max(0, now.requests - before.requests),
      errors: Math.max(0, Math.min(now.errors - before.errors, now.requests - before.requests)),
    });
    const input: CheckInput = {
      baseline: data?.baseline ?? new VersionSamples(),
      candidate: data?.candidate ?? new VersionSamples(),
      baselineTotal,
      candidateTotal,
      baselineInterval: since(baselineTotal, run.lastBaselineTotal),
      candidateInterval: since(candidateTotal, run.lastCandidateTotal),
      candidateBreakerOpened: breakerOpened || (data?.breakerOpened ?? false),
      baselineServes: c.weight < 100,
      thresholds: c.thresholds,
      alpha: c.alpha_per_test ?? c.thresholds.alpha,
      method: c.method ?? 'bonferroni',
      levels: run.levels,
      state: run.sequential,
      intervalS: c.interval_s,
    };
    run.lastBaselineTotal = { ...baselineTotal };
    run.lastCandidateTotal = { ...candidateTotal };
    const out = runCheck(input);
    run.sequential = out.state;
    const metrics = sourceError
      ? out.metrics.map(({ evidence: _, ...m }) => (m.name === 'breaker' ? m : { ...m, verdict: 'inconclusive' as const, reason: `metric source unavailable: ${sourceError}` }))
      : out.metrics;
    const unsure = metrics.some((m) => c.thresholds.critical.includes(m.name) && m.verdict === 'inconclusive');
    if (unsure) run.inconclusive++;
    const { decision, reason } = decide({
      metrics,
      critical: c.thresholds.critical,
      checkInStep: run.checkInStep,
      checksPerStep: c.checks_per_step,
      isLastStep: c.step === c.steps.length - 1,
      inconclusiveChecks: run.inconclusive,
      maxInconclusive: c.thresholds.max_inconclusive_checks,
      openEnded: c.open_ended ?? false,
      baselineServes: c.weight < 100,
    });
    const check: CanaryCheck = {
      at: this.wallNow().toISOString(),
      step: c.step,
      weight: c.weight,
      samples: { baseline: run.baseline.requests, candidate: run.candidate.requests },
      decision,
      metrics,
    };
    c.checks.push(check);
    this.apply(run, decision, reason, check, unsure);
  }

  private apply(run: Running, decision: CheckDecision, reason: string, check: CanaryCheck, inconclusive: boolean): void {
    const c = run.canary;
    if (decision === 'rollback') {
      this.finish(run, 'rolled_back', 'rollback', reason, check);
      return;
    }
    if (decision === 'promote') {
      this.finish(run, 'promoted', 'promote', reason, check);
      return;
    }
    if (decision === 'next_step') {
      c.step++;
      c.weight = c.steps[c.step]!;
      run.checkInStep = 0;
      run.breakerOpened = false;
      // On a grid, the next step's window starts where this check's ended, the same on every replica.
      run.stepStartedAt = evalAt(run, c.checks.length) ?? this.wallNow().getTime();
      // Each step is judged on what it served: fresh samples (the anytime tests carry their evidence).
      run.sequential = endStep(run.sequential);
      run.baseline = new VersionSamples(this.random);
      run.candidate = new VersionSamples(this.random);
      this.logger.info('canary step', { canary: c.id, weight: c.weight });
    } else if (!inconclusive) {
      run.checkInStep++; // only conclusive checks count toward holding a step
    }
    this.store.save(c);
    this.emit('canary', c, check);
    this.schedule(run);
  }

  private finish(run: Running, state: Canary['state'], decision: NonNullable<Canary['decision']>, reason: string, check?: CanaryCheck): Canary {
    const c = run.canary;
    run.timer?.cancel();
    run.unsubscribe();
    this.running.delete(c.model);
    c.state = state;
    c.decision = decision;
    c.reason = reason;
    c.ended_at = this.wallNow().toISOString();
    if (state === 'promoted') {
      c.weight = 100;
      // Persist first: a promotion that cannot be saved must not take effect only in memory.
      this.store.save(c, { model: c.model, version: c.candidate });
      this.models.setDefaultVersion(c.model, c.candidate);
    } else {
      c.weight = 0;
      this.store.save(c);
    }
    const log = state === 'promoted' ? 'info' : 'warn';
    this.logger[log](`canary ${state.replace('_', ' ')}`, { canary: c.id, model: c.model, candidate: c.candidate, reason });
    this.emit('canary', c, check);
    return c;
  }
}

/** How far ahead of this agent's clock a fleet's anchor may be (clock skew between machines). */
const MAX_ANCHOR_AHEAD_MS = 5_000;
/** How far behind it may be, at most (and never more than one interval). */
const MAX_ANCHOR_BEHIND_MS = 30_000;

/** The k-th check's instant on the fleet's grid (k from 1). */
function gridPoint(run: Running, k: number): number {
  return run.anchorMs! + k * run.canary.interval_s * 1000;
}

/**
 * Where the k-th check reads Prometheus to, on a fleet's grid: a little before its grid point, so
 * that the scrapes up to then are stored when it asks (a quarter interval, at most 2 s). Undefined
 * without an anchor: the check reads up to now.
 */
function evalAt(run: Running, k: number): number | undefined {
  if (run.anchorMs === undefined) return undefined;
  return gridPoint(run, k) - Math.min(2000, (run.canary.interval_s * 1000) / 4);
}
