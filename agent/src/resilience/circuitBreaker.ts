// A circuit breaker for one model version.
//
// Closed: calls go through; outcomes fill a count-based window. It opens on N consecutive failures
// ("consecutive", the classic rule) or on a failure rate over the window ("failure_rate", once
// minimum_calls are in), and — with slow_call_ms set — on a slow-call rate over the window.
// Open: every call is rejected at once, with the time until the next trial. The open duration
// grows with each trip in a row (open_backoff_multiplier), up to max_open_duration_ms.
// Half-open (entered by the first call after the open duration): exactly half_open_permits trial
// calls go through, everything else is rejected at once (never queued behind a trial). All trials
// succeed → closed; any fails → open again. If no trial outcome arrives within
// half_open_timeout_ms, it goes back to open rather than sticking in half-open.
//
// Admission and outcome are separate (admit() → ticket → ticket.record()), because a request is
// admitted before it queues and its outcome is known only when its batch completes. Every ticket
// belongs to the state it was admitted in: an outcome that arrives after a transition is not
// counted in the new state, so no call slips into a decision it was not admitted for.
import { EventEmitter } from 'node:events';
import type { BreakerState, BreakerStatus } from '../../../common/api.js';
import { CircuitOpenError } from '../errors.js';
import type { Clock } from '../time/clock.js';
import type { BreakerSettings } from './breakerSettings.js';

export type { BreakerState };
export type CallOutcome = 'success' | 'failure' | 'ignored';

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  reason: string;
  /** Wall-clock ms. */
  at: number;
}

/** What /api/v1/status shows of a breaker. */
export type BreakerSnapshot = BreakerStatus;

export interface Ticket {
  record(outcome: CallOutcome, durationMs: number): void;
}

const FAILED = 1;
const SLOW = 2;

export class CircuitBreaker extends EventEmitter<{ transition: [BreakerTransition]; rejected: []; call: [CallOutcome | 'slow'] }> {
  private state: BreakerState = 'closed';
  private forced = false;
  private generation = 0;
  private consecutive = 0;
  /** The count-based window as a ring of flags (FAILED | SLOW), oldest at ringStart. */
  private readonly ring: Uint8Array;
  private ringStart = 0;
  private ringCount = 0;
  private windowFailures = 0;
  private windowSlow = 0;
  private trips = 0;
  private openedAt: number | null = null;
  private openUntil = 0;
  private lastReason: string | null = null;
  private permitsLeft = 0;
  private trialSuccesses = 0;
  private halfOpenDeadline = 0;
  private readonly totals = { successes: 0, failures: 0, slow: 0, rejected: 0 };

  constructor(
    private readonly label: string,
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    /** Wall-clock time for snapshots and events (the clock's now() is monotonic). */
    private readonly wallNow: () => number = Date.now,
  ) {
    super();
    this.ring = new Uint8Array(settings.window_size);
  }

  get currentState(): BreakerState {
    this.tick();
    return this.state;
  }

  /** Admits a call or throws CircuitOpenError. */
  admit(): Ticket {
    this.tick();
    if (this.state === 'open' && !this.forced && this.clock.now() >= this.openUntil) {
      this.transition('half_open', 'open duration elapsed; letting trial requests through');
    }
    if (this.state === 'closed') return this.ticket();
    if (this.state === 'half_open' && this.permitsLeft > 0) {
      this.permitsLeft--;
      return this.ticket();
    }
    this.totals.rejected++;
    this.emit('rejected');
    throw this.rejection();
  }

  /** Force closed, counters cleared. */
  reset(): void {
    this.forced = false;
    this.trips = 0;
    this.clearCounters();
    this.transition('closed', 'reset by hand', true);
  }

  /** Force open until reset. */
  forceOpen(): void {
    this.forced = true;
    this.transition('open', 'opened by hand', true);
  }

  snapshot(): BreakerSnapshot {
    this.tick();
    const calls = this.ringCount;
    const openFor = this.openUntil - this.clock.now();
    return {
      state: this.state,
      forced: this.forced,
      consecutive_failures: this.consecutive,
      window: {
        calls,
        failures: this.windowFailures,
        slow: this.windowSlow,
        failure_rate: calls ? this.windowFailures / calls : 0,
        slow_rate: calls ? this.windowSlow / calls : 0,
      },
      trips: this.trips,
      opened_at: this.openedAt,
      next_trial_at: this.state === 'open' && !this.forced ? this.wallNow() + Math.max(0, openFor) : null,
      last_reason: this.lastReason,
      totals: { ...this.totals },
    };
  }

  /** Seconds until a request may get through (for Retry-After). */
  retryAfterS(): number {
    if (this.state === 'half_open') return 1;
    if (this.forced) return 60;
    return Math.max(1, Math.ceil((this.openUntil - this.clock.now()) / 1000));
  }

  private rejection(): CircuitOpenError {
    const retry = this.retryAfterS();
    const why = this.lastReason ? ` (${this.lastReason})` : '';
    const message =
      this.state === 'half_open'
        ? `circuit breaker half-open for ${this.label}: its trial requests are running; retry in ${retry} s`
        : this.forced
          ? `circuit breaker open for ${this.label} (opened by hand); reset it to serve this version`
          : `circuit breaker open for ${this.label}${why}; next trial in ${retry} s`;
    return new CircuitOpenError(message, retry);
  }

  private ticket(): Ticket {
    return new BreakerTicket(this, this.generation);
  }

  /** Called by a ticket, once. */
  settle(generation: number, outcome: CallOutcome, durationMs: number): void {
    this.tick();
    if (generation !== this.generation) return; // admitted under another state: not counted
    if (outcome === 'ignored') {
      if (this.state === 'half_open') this.permitsLeft++; // give the trial slot back
      return;
    }
    this.onOutcome(outcome === 'failure', durationMs);
  }

  private onOutcome(failed: boolean, durationMs: number): void {
    const s = this.settings;
    const slow = s.slow_call_ms > 0 && durationMs >= s.slow_call_ms;
    if (failed) this.totals.failures++;
    else this.totals.successes++;
    if (slow) this.totals.slow++;
    this.emit('call', failed ? 'failure' : 'success');
    if (slow) this.emit('call', 'slow');

    if (this.state === 'half_open') {
      if (failed || slow) {
        this.trip(failed ? 'a trial request failed' : `a trial request took ${Math.round(durationMs)} ms (slow above ${s.slow_call_ms} ms)`);
        return;
      }
      this.trialSuccesses++;
      this.halfOpenDeadline = this.clock.now() + s.half_open_timeout_ms;
      if (this.trialSuccesses >= s.half_open_permits) {
        this.trips = 0;
        this.clearCounters();
        this.transition('closed', `${this.trialSuccesses} trial request${this.trialSuccesses > 1 ? 's' : ''} succeeded`);
      }
      return;
    }
    if (this.state !== 'closed') return;

    this.consecutive = failed ? this.consecutive + 1 : 0;
    const size = this.ring.length;
    if (this.ringCount === size) {
      const old = this.ring[this.ringStart]!;
      if (old & FAILED) this.windowFailures--;
      if (old & SLOW) this.windowSlow--;
      this.ringStart = (this.ringStart + 1) % size;
      this.ringCount--;
    }
    this.ring[(this.ringStart + this.ringCount) % size] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.ringCount++;
    if (failed) this.windowFailures++;
    if (slow) this.windowSlow++;
    const calls = this.ringCount;
    if (s.trip === 'consecutive' && this.consecutive >= s.consecutive_failures) {
      this.trip(`${this.consecutive} consecutive failures`);
    } else if (s.trip === 'failure_rate' && calls >= s.minimum_calls && this.windowFailures / calls >= s.failure_rate_threshold) {
      this.trip(`failure rate ${pct(this.windowFailures / calls)} over the last ${calls} calls (threshold ${pct(s.failure_rate_threshold)})`);
    } else if (s.slow_call_ms > 0 && calls >= s.minimum_calls && this.windowSlow / calls >= s.slow_call_rate_threshold) {
      this.trip(`slow-call rate ${pct(this.windowSlow / calls)} over the last ${calls} calls (slower than ${s.slow_call_ms} ms)`);
    }
  }

  private trip(reason: string): void {
    const s = this.settings;
    this.trips++;
    const duration = Math.min(s.max_open_duration_ms, s.open_duration_ms * s.open_backoff_multiplier ** (this.trips - 1));
    this.openUntil = this.clock.now() + duration;
    this.clearCounters();
    this.transition('open', reason);
  }

  /** Time-driven changes, evaluated lazily whenever the breaker is used or looked at. */
  private tick(): void {
    if (this.state === 'half_open' && this.clock.now() >= this.halfOpenDeadline) {
      // Trials were granted but no outcome came back (or no trial traffic): do not stick.
      this.openUntil = this.clock.now() + Math.min(this.settings.max_open_duration_ms, this.settings.open_duration_ms);
      this.transition('open', `no trial outcome within ${this.settings.half_open_timeout_ms} ms in half-open`);
    }
  }

  private clearCounters(): void {
    this.consecutive = 0;
    this.ringStart = 0;
    this.ringCount = 0;
    this.windowFailures = 0;
    this.windowSlow = 0;
  }

  private transition(to: BreakerState, reason: string, force = false): void {
    const from = this.state;
    if (from === to && !force) return;
    this.state = to;
    this.generation++;
    this.lastReason = reason;
    if (to === 'open') this.openedAt = this.wallNow();
    if (to === 'closed') this.openedAt = null;
    if (to === 'half_open') {
      this.permitsLeft = this.settings.half_open_permits;
      this.trialSuccesses = 0;
      this.halfOpenDeadline = this.clock.now() + this.settings.half_open_timeout_ms;
    }
    this.emit('transition', { from, to, reason, at: this.wallNow() });
  }
}

/** A class, not a closure per call: admission is on every request's path. */
class BreakerTicket implements Ticket {
  private done = false;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly generation: number,
  ) {}

  record(outcome: CallOutcome, durationMs: number): void {
    if (this.done) return;
    this.done = true;
    this.breaker.settle(this.generation, outcome, durationMs);
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}
