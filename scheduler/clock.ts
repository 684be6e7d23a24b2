/**
 * Where the scheduler gets the time and its timers from. Injected so that
 * tests (and a simulated day in bench/) run the planner deterministically.
 */

export interface Clock {
  /** Wall-clock UTC milliseconds. */
  now(): number;
}

/** Opaque: whatever setTimeout returned. */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Node's timers; unref'd so a pending plan alone never keeps the process alive. */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock and timers that move only when told to: advance(ms) fires due timers in order. */
export class ManualClock implements Clock, Timers {
  #now: number;
  #seq = 0;
  #timers = new Set<ManualTimer>();

  constructor(startUtcMs: number) {
    this.#now = startUtcMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(t);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** Number of armed timers (tests check that nothing leaks). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Move time forward, firing every timer that falls due on the way, each at its own time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Jump to an absolute time (forward only). */
  advanceTo(utcMs: number): void {
    this.advance(Math.max(0, utcMs - this.#now));
  }
}
