// How many crashes the supervisor forgives: at most `max` in any `windowMs` (the language client's
// habit, 5 in 3 minutes). Time comes from the caller so tests drive it.

export class CrashBudget {
  private crashes: number[] = [];

  constructor(
    private readonly now: () => number,
    readonly max = 5,
    readonly windowMs = 3 * 60_000,
  ) {}

  /** Records a crash; false when this one exhausts the budget (stop restarting). */
  record(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length < this.max;
  }

  /** Crashes inside the current window. */
  get recent(): number {
    const t = this.now();
    return this.crashes.filter((c) => t - c < this.windowMs).length;
  }

  reset(): void {
    this.crashes = [];
  }
}

/** Delay before restart number `attempt` (1-based): 0.5 s doubling, at most 8 s. */
export function restartDelayMs(attempt: number): number {
  return Math.min(8000, 500 * 2 ** Math.max(0, attempt - 1));
}
