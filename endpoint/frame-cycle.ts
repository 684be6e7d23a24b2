/**
 * One 20 ms cycle for the whole agent process: every agent's output is paced
 * by it, so a process hosting hundreds of agents (the bench) runs one timer,
 * not one per agent. It is the media plane's frame clock (codecs/frame-clock.ts:
 * tick n due at t0 + n·20 ms, never by adding intervals; a late wake-up
 * delivers every tick that is due, up to `maxCatchUp`, after which older ticks
 * are skipped and counted) with a list of listeners. With no listener the
 * clock stops.
 */
import { FrameClock, realTimeSource, type TimeSource } from '../codecs/frame-clock.js';

/**
 * Called once per tick with the tick's nominal monotonic time (ms) and its
 * index. Indices are consecutive except after a skip (a long stall) or a
 * pause with no listener: a listener that must account for every slot (a WAV)
 * sees the gap there.
 */
export type TickListener = (tickMs: number, index: number) => void;

export interface FrameCycleOptions {
  /** Default: real time, without the engine's busy-wait before each tick (an agent box is small). */
  time?: TimeSource;
  maxCatchUp?: number;
}

export class FrameCycle {
  private static sharedCycle: FrameCycle | null = null;

  /** The process-wide cycle. */
  static shared(): FrameCycle {
    return (FrameCycle.sharedCycle ??= new FrameCycle());
  }

  /** Listener exceptions (caught so one agent cannot stop the others). */
  listenerErrors = 0;

  private readonly clock: FrameClock;
  private readonly listeners = new Set<TickListener>();

  constructor(options: FrameCycleOptions = {}) {
    this.clock = new FrameClock(options.time ?? realTimeSource(0), (n) => this.tick(n), { maxCatchUpFrames: options.maxCatchUp ?? 10 });
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Ticks skipped after stalls longer than maxCatchUp ticks. */
  get skippedTicks(): number {
    return this.clock.skippedFrames;
  }

  /** Nominal monotonic time of tick n. */
  tickTime(n: number): number {
    return this.clock.frameDue(n);
  }

  /** Starts receiving ticks (from the next one due); returns the unsubscribe function. */
  subscribe(listener: TickListener): () => void {
    this.listeners.add(listener);
    if (!this.clock.running) this.clock.start(this.clock.upcomingFrame());
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.clock.stop();
    };
  }

  private tick(n: number): void {
    const at = this.clock.frameDue(n);
    for (const l of this.listeners) {
      try {
        l(at, n);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}
