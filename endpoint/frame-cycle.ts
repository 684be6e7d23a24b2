/**
 * One drift-free 20 ms cycle for the whole process. Every agent's output is
 * paced by it: a process hosting hundreds of agents (the bench) runs one timer,
 * not one per agent. Tick n is due at t0 + n·20 ms on the monotonic clock
 * (never by adding intervals); a late wake-up delivers every tick that is due,
 * up to `maxCatchUp`, after which older ticks are skipped and counted.
 * With no subscriber the timer stops.
 */
import { performance } from 'node:perf_hooks';
import { FRAME_MS } from '../codecs/pcm.js';

/**
 * Called once per tick with the tick's nominal monotonic time (ms) and its
 * index. Indices are consecutive except after a skip (a long stall): a
 * listener that must account for every slot (a WAV) sees the gap there.
 */
export type TickListener = (tickMs: number, index: number) => void;

export interface FrameCycleOptions {
  now?: () => number;
  maxCatchUp?: number;
  setTimer?: (fn: () => void, delayMs: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class FrameCycle {
  private static sharedCycle: FrameCycle | null = null;

  /** The process-wide cycle. */
  static shared(): FrameCycle {
    return (FrameCycle.sharedCycle ??= new FrameCycle());
  }

  /** Ticks skipped after stalls longer than maxCatchUp ticks. */
  skippedTicks = 0;
  /** Listener exceptions (caught so one agent cannot stop the others). */
  listenerErrors = 0;

  private readonly now: () => number;
  private readonly maxCatchUp: number;
  private readonly setTimer: (fn: () => void, delayMs: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly listeners = new Set<TickListener>();
  private t0 = 0;
  private next = 0;
  private timer: unknown = null;

  constructor(options: FrameCycleOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxCatchUp = options.maxCatchUp ?? 10;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Nominal monotonic time of tick n of the current run. */
  tickTime(n: number): number {
    return this.t0 + n * FRAME_MS;
  }

  /** Starts receiving ticks (from the next one due); returns the unsubscribe function. */
  subscribe(listener: TickListener): () => void {
    this.listeners.add(listener);
    if (this.timer === null) {
      this.t0 = this.now() + FRAME_MS;
      this.next = 0;
      this.arm();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer !== null) {
        this.clearTimer(this.timer);
        this.timer = null;
      }
    };
  }

  private arm(): void {
    const delay = Math.max(0, this.tickTime(this.next) - this.now());
    this.timer = this.setTimer(() => this.wake(), delay);
  }

  private wake(): void {
    const now = this.now();
    let due = Math.floor((now - this.t0) / FRAME_MS) + 1 - this.next;
    if (due > this.maxCatchUp) {
      this.skippedTicks += due - this.maxCatchUp;
      this.next += due - this.maxCatchUp;
      due = this.maxCatchUp;
    }
    for (let i = 0; i < due && this.listeners.size > 0; i++) {
      const index = this.next++;
      const tick = this.tickTime(index);
      for (const l of this.listeners) {
        try {
          l(tick, index);
        } catch {
          this.listenerErrors++;
        }
      }
    }
    if (this.listeners.size > 0) this.arm();
    else this.timer = null;
  }
}
