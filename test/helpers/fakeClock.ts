// A manual clock: time moves only when a test calls advance(), and due timers fire in order.
import type { Clock, Timer } from '../../agent/src/time/clock.js';

export class FakeClock implements Clock {
  // Not 0: some libraries (lru-cache) read a start time of 0 as "no time recorded".
  private t = 1_000;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }

  /** Moves time forward, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }

  get pendingTimers(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

/** Lets promise callbacks run (no time passes). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
